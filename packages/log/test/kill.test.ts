/**
 * Kill test: a child process appends and reports each durable index; we SIGKILL it at random
 * moments, reopen, and check that every index it reported is present and intact. The same
 * directory accumulates across kills, so each run also recovers what the previous one left.
 * KEEL_LONG=1 runs many more kill points.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLog } from '../src/index.js';
import { compileForNode } from './compile.js';
import { isPayload, payload, tempDir } from './helpers.js';

const LONG = process.env.KEEL_LONG === '1';
const KILLS = Number(process.env.KEEL_KILL_POINTS ?? (LONG ? 1000 : 100));
/** Children run side by side on separate directories: each mostly waits (process start, fsyncs), so
 * four lanes keep two cores busy and the suite short. */
const LANES = 4;
/** Runs that share one directory (each recovering what the previous one left) before a fresh one. */
const RUNS_PER_DIR = 10;
const childSource = fileURLToPath(new URL('./fixtures/appender.ts', import.meta.url));
/** The child compiled to plain JS once (bare `node` starts in ~0.1 s; `--import tsx` took ~0.6 s). */
let child = '';
let removeChild: (() => Promise<void>) | null = null;

beforeAll(async () => {
  const c = await compileForNode(childSource);
  child = c.file;
  removeChild = c.cleanup;
});
afterAll(async () => {
  await removeChild?.();
});

interface Lane {
  dir: string;
  /** Highest index any run reported durable, with the term of the run that reported it. */
  reported: Array<{ start: number; upTo: number; term: number }>;
}

async function runChild(lane: Lane, term: number, killAfterReports: number, extraMs: number): Promise<void> {
  let proc: ChildProcess | null = null;
  const kill = () => {
    if (proc?.pid !== undefined && proc.exitCode === null && proc.signalCode === null)
      process.kill(proc.pid, 'SIGKILL');
  };
  try {
    await run();
  } finally {
    // Never leave a child behind, whatever happened above.
    kill();
  }

  function run(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let buf = '';
      let start = -1;
      let reports = 0;
      let maxDurable = -1;
      let killTimer: NodeJS.Timeout | null = null;
      proc = spawn(process.execPath, [child, lane.dir, String(term)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      proc.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      proc.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
          if (line.startsWith('s ')) {
            start = Number(line.slice(2));
          } else if (line.startsWith('d ')) {
            maxDurable = Math.max(maxDurable, Number(line.slice(2)));
            reports++;
            if (reports === killAfterReports) {
              // A random moment after the k-th durable report: mid-batch, mid-fsync or mid-rotation.
              if (extraMs === 0) kill();
              else killTimer = setTimeout(kill, extraMs);
            }
          } else if (line.startsWith('e ')) {
            reject(new Error(`child reported a storage error: ${line}`));
          }
        }
      });
      const guard = setTimeout(() => {
        kill();
        reject(new Error(`child did not reach ${killAfterReports} reports in time; stderr: ${stderr}`));
      }, 20_000);
      proc.on('exit', (code, signal) => {
        clearTimeout(guard);
        if (killTimer) clearTimeout(killTimer);
        // Lines read before the exit are all we trust; any later data was never reported.
        if (maxDurable >= 0) lane.reported.push({ start, upTo: maxDurable, term });
        if (signal === 'SIGKILL') resolve();
        else reject(new Error(`child exited with ${code ?? signal}; stderr: ${stderr}`));
      });
      proc.on('error', reject);
    });
  }
}

async function verify(lane: Lane): Promise<number> {
  const log = await openLog(lane.dir, { segmentSize: 65536 });
  try {
    // Each run appends from its recovered lastIndex + 1 (`start`) with its own term: an index it
    // reported durable must still hold that term.
    const expectedTerm = new Map<number, number>();
    let prev = 0;
    for (const r of lane.reported) {
      expect(r.start).toBeGreaterThanOrEqual(prev);
      for (let i = r.start + 1; i <= r.upTo; i++) expectedTerm.set(i, r.term);
      prev = Math.max(prev, r.upTo);
    }
    const maxReported = prev;
    expect(log.lastIndex()).toBeGreaterThanOrEqual(maxReported);
    const got = log.entries(1, log.lastIndex() + 1, Number.POSITIVE_INFINITY);
    for (const e of got) {
      const want = expectedTerm.get(e.index);
      if (want !== undefined && e.term !== want) {
        throw new Error(`index ${e.index}: term ${e.term}, reported durable with term ${want}`);
      }
      if (!isPayload(e.data, e.index, e.term)) throw new Error(`index ${e.index}: payload differs`);
    }
    return log.lastIndex();
  } finally {
    await log.close();
  }
}

describe('kill -9 at random moments', () => {
  it(`loses no reported-durable entry over ${KILLS} kill points`, {
    timeout: LONG ? 3_600_000 : 600_000, // ~30 s quiet; 130 s seen on a busy two-core machine
  }, async () => {
    // The verifier's allocation-free payload check must agree with the generator.
    expect(isPayload(payload(7, 3), 7, 3)).toBe(true);
    expect(isPayload(payload(7, 4), 7, 3)).toBe(false);
    const lanes: Lane[] = [];
    const cleanups: Array<() => Promise<void>> = [];
    try {
      for (let l = 0; l < LANES; l++) {
        const t = await tempDir('keel-kill-');
        cleanups.push(t.cleanup);
        lanes.push({ dir: t.dir, reported: [] });
      }
      let seed = 12345;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return (seed >>> 8) % n;
      };
      const perLane = Math.ceil(KILLS / LANES);
      let kills = 0;
      await Promise.all(
        lanes.map(async (lane) => {
          for (let run = 1; run <= perLane; run++) {
            if (run % RUNS_PER_DIR === 0) {
              // A fresh directory now and then keeps every reopen (and our full check) cheap.
              const t = await tempDir('keel-kill-');
              cleanups.push(t.cleanup);
              lane.dir = t.dir;
              lane.reported = [];
            }
            // Mostly early kills (recovery of a fresh tail), sometimes later ones (rotations).
            const after = 1 + (rand(4) === 0 ? rand(100) : rand(15));
            await runChild(lane, run, after, rand(3) === 0 ? 0 : rand(15));
            kills++;
            await verify(lane);
          }
        }),
      );
      expect(kills).toBeGreaterThanOrEqual(KILLS);
    } finally {
      for (const c of cleanups) await c();
    }
  });
});
