import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readProcStat } from '@keel/ops';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readClusterFile } from '../src/cluster/ClusterFile.js';
import { memberProgram } from '../src/cluster/paths.js';
import { ExitCode, runCli } from '../src/index.js';
import { capture, ProcessTracker, tempDir, until, upDetached } from './helpers.js';

// A real cluster: three `keel node` processes from apps/node's build (`npm test` builds it first;
// run `pnpm exec turbo run build --filter=@keel/node` before running this file alone).
const MAIN = memberProgram({});
const tracker = new ProcessTracker();
const tmp = tempDir('real');
const dir = join(tmp.path, 'cluster');
afterEach(() => {
  tracker.trackClusterDir(dir);
  tracker.killAll();
});
afterAll(() => tmp.remove());

const env = { ...process.env };
delete env.KEEL_MEMBER_PROGRAM;

async function cli(...argv: string[]) {
  const c = capture({ env }, tracker, MAIN);
  const code = await runCli([...argv, '--dir', dir], c.io);
  return { code, out: c.out, err: c.err };
}

interface StatusJson {
  leader: string | null;
  term: number | null;
  members: {
    id: string;
    pid: number | null;
    state: string;
    isolated?: boolean;
    role: string | null;
    leader: string | null;
    appliedIndex: number | null;
  }[];
}

async function status(): Promise<StatusJson | undefined> {
  const r = await cli('cluster', 'status', '--json');
  return r.code === ExitCode.NoCluster ? undefined : (JSON.parse(r.out.join('\n')) as StatusJson);
}

const alive = (pid: number | null): boolean =>
  pid !== null && readProcStat(pid) !== null && readProcStat(pid)?.state !== 'Z';

describe.skipIf(!existsSync(MAIN))('keel cluster with real keel node processes', () => {
  it('elects a leader, fails over when the leader is killed, takes it back, and stops', async () => {
    const up = await upDetached(cli);
    const first = JSON.parse(up.out.join('\n')) as StatusJson;
    expect(first.leader).toMatch(/^n[123]$/);

    const settled = await until('all three members to follow one leader', 30_000, async () => {
      const s = await status();
      return s?.leader != null && s.members.every((m) => m.state === 'running' && m.leader === s.leader)
        ? s
        : undefined;
    });
    const oldLeader = settled.leader as string;

    // A laptop cluster stays small on disk: 4 MiB WAL segments (the member default is 64 MiB,
    // and a member keeps its current segment and the next one preallocated).
    for (const m of readClusterFile(dir)?.members ?? []) {
      expect(m.command.join(' ')).toContain('--wal-segment-size 4MiB');
      const wal = join(m.dataDir, 'wal');
      let bytes = 0;
      for (const f of readdirSync(wal)) bytes += statSync(join(wal, f)).size;
      expect(bytes).toBeLessThanOrEqual(3 * 4 * 1024 ** 2);
    }

    const k = await cli('cluster', 'kill', oldLeader);
    expect(k.code).toBe(ExitCode.Ok);
    const after = await until('a new leader', 30_000, async () => {
      const s = await status();
      return s?.leader != null && s.leader !== oldLeader ? s : undefined;
    });
    expect(after.term).toBeGreaterThan(settled.term ?? 0);

    expect((await cli('cluster', 'restart', oldLeader)).code).toBe(ExitCode.Ok);
    await until(`${oldLeader} to rejoin as a follower`, 30_000, async () => {
      const s = await status();
      const m = s?.members.find((x) => x.id === oldLeader);
      return m?.state === 'running' && m.leader !== null ? true : undefined;
    });

    // isolate: the member runs on but the others lead without it; heal: it follows again.
    const cut = (await status())?.leader as string;
    const iso = await cli('cluster', 'isolate', cut);
    expect(iso.err).toEqual([]);
    expect(iso.out[0]).toMatch(new RegExp(`^${cut} isolated from its peers`));
    await until('a leader other than the isolated member', 30_000, async () => {
      const s = await status();
      const others = s?.members.filter((m) => m.id !== cut) ?? [];
      const isolated = s?.members.find((m) => m.id === cut);
      return isolated?.isolated === true && others.every((m) => m.leader !== null && m.leader !== cut)
        ? true
        : undefined;
    });
    expect((await cli('cluster', 'heal', cut)).code).toBe(ExitCode.Ok);
    await until(`${cut} to follow one leader with the others`, 30_000, async () => {
      const s = await status();
      return s?.leader != null && s.members.every((m) => !m.isolated && m.leader === s.leader)
        ? true
        : undefined;
    });

    const pids = (readClusterFile(dir)?.members ?? []).map((m) => m.pid);
    const d = await cli('cluster', 'down');
    expect(d.err).toEqual([]);
    expect(d.code).toBe(ExitCode.Ok);
    for (const line of d.out.slice(0, 3)) expect(line).toMatch(/^n\d \(pid \d+\) stopped in \d+ ms$/);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 120_000);
});
