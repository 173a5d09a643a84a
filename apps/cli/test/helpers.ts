import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeBasePort as freeBasePortOps, waitFor } from '@keel/ops';
import { readClusterFile } from '../src/cluster/ClusterFile.js';
import { memberProgram } from '../src/cluster/paths.js';
import { type Io, runCli } from '../src/index.js';

export const FAKE_MEMBER = fileURLToPath(new URL('./fixtures/fake-member.mjs', import.meta.url));
export { freeBasePort } from '@keel/ops';

export const CLI_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

export interface Captured {
  readonly io: Io;
  readonly out: string[];
  readonly err: string[];
  text(): string;
}

/**
 * Tracks every process a test starts, by PID, and kills the ones still running at the end, so a
 * failing test leaves nothing behind. It only signals a PID whose command line still names the
 * program it started (a PID reused by a stranger is left alone).
 */
export class ProcessTracker {
  private readonly pids = new Map<number, string>();

  track(pid: number, mark: string): void {
    this.pids.set(pid, mark);
  }

  /** Adds every PID recorded in a cluster directory's file. */
  trackClusterDir(dir: string): void {
    try {
      for (const m of readClusterFile(dir)?.members ?? [])
        if (m.pid !== null) this.track(m.pid, m.command[1] ?? '');
    } catch {
      // A damaged file has no PIDs to offer; the onSpawn hook saw them anyway.
    }
  }

  killAll(): number {
    let killed = 0;
    for (const [pid, mark] of this.pids) {
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (!cmdline.includes(mark)) continue;
      try {
        process.kill(pid, 'SIGKILL');
        killed += 1;
      } catch {
        // gone meanwhile
      }
    }
    this.pids.clear();
    return killed;
  }
}

export function capture(overrides: Partial<Io> = {}, tracker?: ProcessTracker, mark = FAKE_MEMBER): Captured {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    isTTY: false,
    env: { ...process.env, KEEL_MEMBER_PROGRAM: FAKE_MEMBER, KEEL_FAKE_LIFETIME_MS: '60000' },
    ...(tracker ? { onSpawn: (pid: number) => tracker.track(pid, mark) } : {}),
    ...overrides,
  };
  return { io, out, err, text: () => [...out, ...err].join('\n') };
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `keel-cli-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs` (@keel/ops `waitFor`). */
export function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  return waitFor(what, probe, timeoutMs, 50);
}

/** What a test's own `cli(...)` runner answers. */
export interface CliResult {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

/**
 * `keel cluster up --detach --json` of three members on free ports (plus `extra` flags), through
 * the test's `cli` runner (which adds its environment); fails the test unless it started cleanly.
 */
export async function upDetached(
  cli: (...argv: string[]) => Promise<CliResult>,
  extra: readonly string[] = [],
): Promise<CliResult> {
  const base = await freeBasePortOps(3, 21000, 31000);
  const up = await cli(
    'cluster',
    'up',
    '--detach',
    '--json',
    '--base-port',
    String(base),
    '--timeout',
    '20',
    ...extra,
  );
  if (up.err.length > 0 || up.code !== 0) {
    throw new Error(`keel cluster up exited ${up.code}: ${up.err.join('\n')}`);
  }
  return up;
}

/**
 * The frame of a test file that runs real `keel node` processes through `keel cluster up`: a
 * cluster directory in a temporary directory, a `keel` runner on it that records every PID it
 * starts, and `cleanup()` for afterAll (kills them by PID, removes the directory).
 */
export interface RealCluster {
  /** The member program (`keel node`'s built main); tests skip when it is not built. */
  readonly main: string;
  readonly tracker: ProcessTracker;
  /** The temporary directory (the cluster directory is `cluster` in it); removed by cleanup. */
  readonly tmp: string;
  readonly dir: string;
  /** The environment the CLI and the members get (no test-only member program). */
  readonly env: NodeJS.ProcessEnv;
  cli(...argv: string[]): Promise<CliResult>;
  cleanup(): void;
}

export function realCluster(prefix: string): RealCluster {
  const main = memberProgram({});
  const tracker = new ProcessTracker();
  const tmp = tempDir(prefix);
  const dir = join(tmp.path, 'cluster');
  const env = { ...process.env };
  delete env.KEEL_MEMBER_PROGRAM;
  return {
    main,
    tracker,
    tmp: tmp.path,
    dir,
    env,
    async cli(...argv: string[]) {
      const c = capture({ env }, tracker, main);
      const code = await runCli([...argv, '--dir', dir], c.io);
      tracker.trackClusterDir(dir);
      return { code, out: c.out, err: c.err };
    },
    cleanup() {
      tracker.trackClusterDir(dir);
      tracker.killAll();
      tmp.remove();
    },
  };
}
