import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KvClient } from '@keel/kv';
import { ClientConnection } from '@keel/transport-zmq';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readClusterFile } from '../src/cluster/ClusterFile.js';
import { memberProgram } from '../src/cluster/paths.js';
import { ExitCode, runCli } from '../src/index.js';
import { capture, freeBasePort, ProcessTracker, tempDir, until } from './helpers.js';

// Snapshots and membership changes on real `keel node` processes (issue 10): members join and
// leave under write load, a member that missed 5,000 entries comes back through a snapshot,
// and restarts around compaction points keep every member's log consistent.
const MAIN = memberProgram({});
const tracker = new ProcessTracker();
const tmp = tempDir('membership');
let dir = '';
const clients: KvClient[] = [];
afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  if (dir !== '') tracker.trackClusterDir(dir);
  tracker.killAll();
});
afterAll(() => tmp.remove());

function envWith(extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, ...extra };
  delete env.KEEL_MEMBER_PROGRAM;
  return env;
}

async function cli(env: Record<string, string | undefined>, ...argv: string[]) {
  const c = capture({ env }, tracker, MAIN);
  const code = await runCli([...argv, '--dir', dir], c.io);
  tracker.trackClusterDir(dir);
  return { code, out: c.out, err: c.err };
}

interface Status {
  id: string;
  role: string;
  leader: string | null;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  lastIndex: number;
  firstIndex: number;
  snapshotIndex: number;
  stateHash: string;
  conf: { voters: string[]; learners: string[] };
}

function members() {
  const f = readClusterFile(dir);
  if (f === null) throw new Error('no cluster file');
  return f.members.map((m) => ({
    id: m.id,
    client: `${f.host}:${m.ports.client}`,
    http: `${f.host}:${m.ports.http}`,
  }));
}

async function statusOf(http: string): Promise<Status | null> {
  try {
    const res = await fetch(`http://${http}/status?hash=1`, { signal: AbortSignal.timeout(1000) });
    return res.ok ? ((await res.json()) as Status) : null;
  } catch {
    return null;
  }
}

function client(): KvClient {
  const c = new KvClient({
    endpoints: members().map((m) => m.client),
    connect: (a) => new ClientConnection({ address: `tcp://${a}` }),
    timeoutMs: 20_000,
    attemptTimeoutMs: 1000,
  });
  clients.push(c);
  return c;
}

/** `keel_snapshots_restored_total` of a member's /metrics (since its process started); null if silent. */
async function restoredSnapshots(http: string): Promise<number | null> {
  try {
    const res = await fetch(`http://${http}/metrics`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return null;
    const m = /^keel_snapshots_restored_total(?:\{[^}]*\})? (\d+)/m.exec(await res.text());
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

/** Every member of the cluster file answers with the same applied index and state hash. */
async function converged(timeoutMs = 60_000): Promise<Status[]> {
  return until('every member to apply the same state', timeoutMs, async () => {
    const all = await Promise.all(members().map((m) => statusOf(m.http)));
    if (all.some((s) => s === null)) return undefined;
    const ss = all as Status[];
    const lead = ss.find((s) => s.role === 'leader');
    if (lead === undefined) return undefined;
    const ok = ss.every(
      (s) => s.appliedIndex === lead.commitIndex && s.stateHash === lead.stateHash && s.leader === lead.id,
    );
    return ok ? ss : undefined;
  });
}

/**
 * Closed-loop writers that record what clients saw; stopped by the returned function. Each lane
 * writes its own keys, one write at a time, so a key's acknowledged writes are ordered; a write
 * that timed out may still have applied, so it is remembered as possible until the next ack.
 * Bounded in count and time.
 */
function writeLoad(c: KvClient, prefix: string, lanes = 8, maxMs = 120_000, maxWrites = 200_000) {
  const seen: Written = { acked: new Map(), maybe: new Map() };
  let stop = false;
  let n = 0;
  const until = performance.now() + maxMs;
  const lane = async (l: number): Promise<void> => {
    for (let j = 0; !stop && n < maxWrites && performance.now() < until; j++) {
      n++;
      const key = `${prefix}/${l}/${j % 50}`;
      const value = `v${j}`;
      try {
        await c.put(key, value);
        seen.acked.set(key, value);
        seen.maybe.delete(key);
      } catch {
        // Indeterminate (a timeout during a change): it may or may not have applied.
        const m = seen.maybe.get(key) ?? new Set<string>();
        m.add(value);
        seen.maybe.set(key, m);
      }
    }
  };
  const running = Promise.all(Array.from({ length: lanes }, (_v, l) => lane(l)));
  return async () => {
    stop = true;
    await running;
    return seen;
  };
}

interface Written {
  readonly acked: Map<string, string>;
  readonly maybe: Map<string, Set<string>>;
}

/** Every acknowledged write is there: its value, or a later write of the same key whose outcome was unknown. */
async function expectAllRead(c: KvClient, w: Written): Promise<void> {
  const dec = new TextDecoder();
  for (const [key, value] of w.acked) {
    const r = await c.get(key);
    const got = r.kv === null ? null : dec.decode(r.kv.value);
    if (got !== value)
      expect([...(w.maybe.get(key) ?? [])], `${key}: read ${got}, acknowledged ${value}`).toContain(got);
  }
}

describe.skipIf(!existsSync(MAIN))('membership changes and snapshots on real keel node processes', () => {
  it('grows 3 → 5, shrinks 5 → 3 and replaces a member under write load; nothing acknowledged is lost', async () => {
    dir = join(tmp.path, 'grow');
    // Small snapshot and compaction steps, so new members come in through snapshots too.
    const env = envWith({ KEEL_SNAPSHOT_ENTRIES: '500', KEEL_COMPACT_KEEP: '100' });
    const base = await freeBasePort(7, 21000, 31000);
    const up = await cli(env, 'cluster', 'up', '--detach', '--base-port', String(base));
    expect(up.err).toEqual([]);
    expect(up.code).toBe(ExitCode.Ok);
    const c = client();
    const stopLoad = writeLoad(c, 'grow');
    await until(
      'some writes',
      60_000,
      async () => ((await statusOf(members()[0]!.http))?.commitIndex ?? 0) > 600 || undefined,
    );

    for (const step of [
      ['cluster', 'add-node'],
      ['cluster', 'add-node'],
      ['cluster', 'remove-node', 'n1'],
      ['cluster', 'remove-node', 'n2'],
      // Replace n3 by n6: add the new one first, then remove the old one.
      ['cluster', 'add-node'],
      ['cluster', 'remove-node', 'n3'],
    ]) {
      const r = await cli(env, ...step, '--timeout', '60');
      expect(r.err, step.join(' ')).toEqual([]);
      expect(r.code, `${step.join(' ')}: ${r.out.join(' | ')}`).toBe(ExitCode.Ok);
    }
    const acked = await stopLoad();
    expect(acked.acked.size).toBeGreaterThan(100);

    const list = await cli(env, 'members', 'list', '--json');
    expect(list.code).toBe(ExitCode.Ok);
    const view = JSON.parse(list.out.join('')) as { members: { id: string; role: string }[] };
    expect(view.members.map((m) => `${m.id}:${m.role}`).sort()).toEqual(['n4:voter', 'n5:voter', 'n6:voter']);
    expect(members().map((m) => m.id)).toEqual(['n4', 'n5', 'n6']);

    const all = await converged();
    for (const s of all) expect(s.conf.voters).toEqual(['n4', 'n5', 'n6']);
    // The newcomers joined after compaction had started: at least one came in through a snapshot.
    expect(all.some((s) => s.snapshotIndex > 0)).toBe(true);
    await expectAllRead(client(), acked);
  }, 240_000);

  it('promote waits for a learner that is behind (--no-wait refuses at once, as etcd does; --force overrides) and promotes it once caught up', async () => {
    dir = join(tmp.path, 'promote');
    const env = envWith({});
    const base = await freeBasePort(5, 21000, 31000);
    const up = await cli(env, 'cluster', 'up', '--detach', '--base-port', String(base));
    expect(up.code).toBe(ExitCode.Ok);
    const c = client();
    const leaderStatus = async (): Promise<Status> =>
      until('a leader to answer /status', 20_000, async () => {
        for (const m of members()) {
          const s = await statusOf(m.http);
          if (s?.role === 'leader') return s;
        }
        return undefined;
      });
    /** 1,500 entries more than now (PROMOTE_MAX_LAG is 1,000), bounded in time and count. */
    const writeEntries = async (prefix: string): Promise<void> => {
      const from = (await leaderStatus()).lastIndex;
      const stop = writeLoad(c, prefix, 32, 60_000, 20_000);
      await until('1,500 more entries', 60_000, async () =>
        (await leaderStatus()).commitIndex - from >= 1500 ? true : undefined,
      );
      await stop();
    };
    const roles = async (): Promise<Record<string, string>> => {
      const list = await cli(env, 'members', 'list', '--json');
      expect(list.code).toBe(ExitCode.Ok);
      const view = JSON.parse(list.out.join('')) as { members: { id: string; role: string }[] };
      return Object.fromEntries(view.members.map((m) => [m.id, m.role]));
    };

    for (const id of ['n4', 'n5']) {
      const added = await cli(env, 'cluster', 'add-node', '--learner', '--timeout', '60');
      expect(added.code, added.err.join(' | ')).toBe(ExitCode.Ok);
      expect(members().map((m) => m.id)).toContain(id);
      // Paused, it falls behind by every entry written meanwhile.
      expect((await cli(env, 'cluster', 'pause', id)).code).toBe(ExitCode.Ok);
    }
    await writeEntries('promote');

    // --no-wait: refused, one line, exit 1, and the learner stays a learner.
    const refused = await cli(env, 'members', 'promote', 'n4', '--no-wait');
    expect(refused.code).toBe(ExitCode.Failure);
    expect(refused.err).toHaveLength(1);
    expect(refused.err[0]).toMatch(
      /^keel members promote: n4 is \d+ entries behind the leader; promote it once it has caught up \(its match in 'keel members list'\), or use --force$/,
    );
    expect(Number(/is (\d+) entries/.exec(refused.err[0]!)![1])).toBeGreaterThan(1000);
    expect((await roles()).n4).toBe('learner');
    // Waiting (the default) for a learner that cannot catch up (paused) ends at --catch-up.
    const waited = await cli(env, 'members', 'promote', 'n4', '--catch-up', '2');
    expect(waited.code).toBe(ExitCode.Failure);
    expect(waited.err.at(-1)).toMatch(
      /^keel members promote: n4 did not catch up in time \(\d+ of \d+\); it stays a learner$/,
    );
    expect((await roles()).n4).toBe('learner');

    // --force: promoted though still behind.
    const forced = await cli(env, 'members', 'promote', 'n5', '--force');
    expect(forced.code, forced.err.join(' | ')).toBe(ExitCode.Ok);
    expect((await roles()).n5).toBe('voter');
    expect((await cli(env, 'cluster', 'resume', 'n5')).code).toBe(ExitCode.Ok);

    // Resumed, n4 catches up: promote waits for it (progress on stderr), then promotes it.
    expect((await cli(env, 'cluster', 'resume', 'n4')).code).toBe(ExitCode.Ok);
    const promoted = await cli(env, 'members', 'promote', 'n4', '--catch-up', '90', '--timeout', '20');
    expect(promoted.code, promoted.err.join(' | ')).toBe(ExitCode.Ok);
    expect(promoted.out[0]).toMatch(/^promoted n4 \(index \d+\)$/);
    expect(await roles()).toEqual({ n1: 'voter', n2: 'voter', n3: 'voter', n4: 'voter', n5: 'voter' });
  }, 240_000);

  it('a member offline for 5,000 entries rejoins through a snapshot; restarts around compaction keep indexes consistent', async () => {
    dir = join(tmp.path, 'offline');
    // A snapshot every 500 entries, 100 kept behind it: 5,000 entries compact the log well past
    // where n3 stopped, so the leader can only bring it back with InstallSnapshot. The size is
    // what keeps this test within tens of seconds on a busy two-core machine; the proof does not
    // grow with it (the counter and the indexes below say which way n3 came back).
    const env = envWith({ KEEL_SNAPSHOT_ENTRIES: '500', KEEL_COMPACT_KEEP: '100' });
    const base = await freeBasePort(3, 21000, 31000);
    const up = await cli(env, 'cluster', 'up', '--detach', '--base-port', String(base));
    expect(up.code).toBe(ExitCode.Ok);
    const n3Before = await statusOf(members()[2]!.http);
    expect((await cli(env, 'cluster', 'kill', 'n3')).code).toBe(ExitCode.Ok);
    const n3Stopped = n3Before?.lastIndex ?? 0;
    expect(n3Before?.snapshotIndex ?? 0).toBe(0);

    // 5,000 entries while n3 is down: plain puts at 64 outstanding (sessions are per client).
    const c = client();
    const start = await until('a member to report its commit index', 10_000, async () => {
      for (const m of members().slice(0, 2)) {
        const s = await statusOf(m.http);
        if (s !== null) return s.commitIndex;
      }
      return undefined;
    });
    const stopLoad = writeLoad(c, 'offline', 64, 90_000);
    await until('5,000 entries committed without n3', 90_000, async () => {
      const s = (await statusOf(members()[0]!.http)) ?? (await statusOf(members()[1]!.http));
      return s !== null && s.commitIndex - start >= 5000 ? true : undefined;
    });
    const acked = await stopLoad();

    const restarted = await cli(env, 'cluster', 'restart', 'n3');
    expect(restarted.code).toBe(ExitCode.Ok);
    const all = await converged(60_000);
    const n3 = all.find((s) => s.id === 'n3')!;
    // It came back through a snapshot: the restarted process restored its state from one (it had
    // none of its own to restore at startup), and its log now starts past where it stopped.
    expect(await restoredSnapshots(members()[2]!.http)).toBeGreaterThanOrEqual(1);
    expect(n3.snapshotIndex).toBeGreaterThan(n3Stopped);
    expect(n3.firstIndex).toBeGreaterThan(n3Stopped + 1);
    const log = readFileSync(join(dir, 'n3', 'member.log'), 'utf8');
    expect(log).toContain('state restored from snapshot');

    // Restart each member in turn while writes go on: indexes stay consistent everywhere.
    const stopMore = writeLoad(client(), 'restart', 16, 60_000);
    for (const id of ['n1', 'n2', 'n3']) {
      expect((await cli(env, 'cluster', 'restart', id)).code).toBe(ExitCode.Ok);
      await until(`${id} back and following`, 30_000, async () => {
        const s = await statusOf(members().find((m) => m.id === id)!.http);
        return s !== null && s.leader !== null ? s : undefined;
      });
    }
    const more = await stopMore();
    const final = await converged(60_000);
    for (const s of final) {
      expect(s.firstIndex).toBeLessThanOrEqual(s.appliedIndex + 1);
      expect(s.lastIndex).toBeGreaterThanOrEqual(s.commitIndex);
      expect(s.snapshotIndex).toBeLessThanOrEqual(s.appliedIndex);
    }
    const reader = client();
    await expectAllRead(reader, more);
    // The offline phase: the last value of each of its keys.
    await expectAllRead(reader, acked);
  }, 300_000);
});
