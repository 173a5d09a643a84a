import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClusterFile } from '../src/cluster/ClusterFile.js';
import { memberProgram } from '../src/cluster/paths.js';
import { runCli } from '../src/index.js';
import { capture, ProcessTracker, tempDir, until, upDetached } from './helpers.js';

// Real processes: a 3-member cluster started by `keel cluster up`, and the election example
// (examples/election.ts, the one packages/kv's README shows) run three times, as its header says a user runs it. One leads; a SIGKILLed leader is
// replaced once its lease expires, a SIGTERMed one resigns. Every PID is killed in afterAll.
const MAIN = memberProgram({});
const CLI_DIR = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = join(CLI_DIR, 'examples', 'election.ts');
const tracker = new ProcessTracker();
const tmp = tempDir('election');
const dir = join(tmp.path, 'cluster');
const env = { ...process.env };
delete env.KEEL_MEMBER_PROGRAM;

afterAll(() => {
  tracker.trackClusterDir(dir);
  tracker.killAll();
  tmp.remove();
});

async function cli(...argv: string[]) {
  const c = capture({ env }, tracker, MAIN);
  const code = await runCli([...argv, '--dir', dir], c.io);
  tracker.trackClusterDir(dir);
  return { code, out: c.out, err: c.err };
}

interface Candidate {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
}

function candidate(name: string, endpoints: string): Candidate {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', EXAMPLE, name], {
    cwd: CLI_DIR,
    env: { ...env, KEEL_ENDPOINTS: endpoints },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) tracker.track(child.pid, EXAMPLE);
  const lines: string[] = [];
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.on('data', (d: Buffer) => lines.push(`stderr: ${d.toString()}`));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, lines, exited };
}

/** The revision a candidate printed when it started to lead, if it did. */
function ledAt(c: Candidate): number | undefined {
  const line = c.lines.find((l) => l.startsWith(`${c.name}: I lead`));
  const m = line === undefined ? null : /revision (\d+)/.exec(line);
  return m === null ? undefined : Number(m[1]);
}

/** The last leader a candidate's observer printed. */
function seesLeader(c: Candidate): string | undefined {
  const seen = c.lines.filter((l) => l.startsWith(`${c.name}: leader is `));
  return seen.at(-1)?.slice(`${c.name}: leader is `.length);
}

describe.skipIf(!existsSync(MAIN))(
  'the election example: three processes elect a leader through keel',
  () => {
    let endpoints = '';
    beforeAll(async () => {
      await upDetached(cli);
      const f = readClusterFile(dir);
      if (f === null) throw new Error('no cluster file');
      endpoints = f.members.map((m) => `127.0.0.1:${m.ports.client}`).join(',');
    }, 60_000);

    it('one leads at a time; a killed leader is replaced after its lease, a stopped one resigns', async () => {
      const all = ['alice', 'bob', 'carol'].map((n) => candidate(n, endpoints));
      const leaders = () =>
        all.filter((c) => ledAt(c) !== undefined && c.child.exitCode === null && c.child.signalCode === null);

      // Exactly one leads, and every observer names it.
      const first = await until('a first leader', 30_000, () =>
        leaders().length > 0 ? leaders() : undefined,
      );
      expect(first).toHaveLength(1);
      const one = first[0]!;
      const firstRevision = ledAt(one)!;
      await until('everyone to see the first leader', 30_000, () =>
        all.every((c) => seesLeader(c) === `${one.name} (revision ${firstRevision})`) ? true : undefined,
      );

      // SIGKILL: no resignation; the lease (3 s) expires and the next in line leads.
      one.child.kill('SIGKILL');
      await one.exited;
      const rest = all.filter((c) => c !== one);
      const second = await until('a second leader', 40_000, () => {
        const l = rest.filter((c) => ledAt(c) !== undefined);
        return l.length > 0 ? l : undefined;
      });
      expect(second).toHaveLength(1);
      const two = second[0]!;
      expect(ledAt(two)).toBeGreaterThan(firstRevision);
      const other = rest.find((c) => c !== two)!;
      await until('the other candidate to see the second leader', 30_000, () =>
        seesLeader(other) === `${two.name} (revision ${ledAt(two)})` ? true : undefined,
      );

      // SIGTERM: the leader resigns and exits cleanly; the last candidate leads.
      two.child.kill('SIGTERM');
      expect(await two.exited).toBe(0);
      await until('the third leader', 30_000, () => (ledAt(other) !== undefined ? true : undefined));
      expect(ledAt(other)).toBeGreaterThan(ledAt(two)!);
      other.child.kill('SIGTERM');
      expect(await other.exited).toBe(0);
      expect(all.flatMap((c) => c.lines.filter((l) => l.startsWith('stderr')))).toEqual([]);
    }, 180_000);
  },
);
