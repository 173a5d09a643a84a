import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeResponse, encodeRequest, type KeyValue, KvClient, type KvClientOptions } from '@keel/kv';
import { fetchStatus, type MemberStatus, readProcStat } from '@keel/ops';
import { ClientConnection } from '@keel/transport-zmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterFile, readClusterFile } from '../src/cluster/ClusterFile.js';
import { memberProgram } from '../src/cluster/paths.js';
import { ExitCode, runCli } from '../src/index.js';
import { capture, ProcessTracker, tempDir, until, upDetached } from './helpers.js';

// Real processes: three `keel node` members from apps/node's build, driven through KvClient over
// ZeroMQ and through the `keel` CLI. Leaders are killed (SIGKILL) and stopped (SIGTERM) under load;
// every acknowledged write must stay readable, exactly once. Every PID is killed in afterEach/afterAll.
const MAIN = memberProgram({});
const tracker = new ProcessTracker();
const tmp = tempDir('kv');
const dir = join(tmp.path, 'cluster');
const env = { ...process.env };
delete env.KEEL_MEMBER_PROGRAM;
const clients: KvClient[] = [];

afterEach(async () => {
  tracker.trackClusterDir(dir);
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(() => {
  tracker.trackClusterDir(dir);
  tracker.killAll();
  tmp.remove();
});

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

async function cli(...argv: string[]) {
  const c = capture({ env }, tracker, MAIN);
  const code = await runCli([...argv, '--dir', dir], c.io);
  tracker.trackClusterDir(dir);
  return { code, out: c.out, err: c.err };
}

function file(): ClusterFile {
  const f = readClusterFile(dir);
  if (f === null) throw new Error('no cluster file');
  return f;
}

const endpointOf = (id: string): string => {
  const m = file().members.find((x) => x.id === id);
  if (m === undefined) throw new Error(`no member ${id}`);
  return `127.0.0.1:${m.ports.client}`;
};

async function statusOf(id: string): Promise<MemberStatus | null> {
  const m = file().members.find((x) => x.id === id);
  if (m === undefined) return null;
  return fetchStatus(`127.0.0.1:${m.ports.http}`, 500);
}

/** The member that leads, once every member in `among` agrees on it. */
async function leader(among: readonly string[]): Promise<{ id: string; status: MemberStatus }> {
  return until(`a leader followed by ${among.join(', ')}`, 30_000, async () => {
    const all = await Promise.all(among.map(statusOf));
    const lead = all.find((s) => s?.role === 'leader');
    if (lead == null || !all.every((s) => s?.leader === lead.id && s.term === lead.term)) return undefined;
    return { id: lead.id, status: lead };
  });
}

const ids = (): string[] => file().members.map((m) => m.id);

function client(endpoints: readonly string[], options: Partial<KvClientOptions> = {}): KvClient {
  const c = new KvClient({
    endpoints,
    connect: (a) => new ClientConnection({ address: `tcp://${a}` }),
    // Generous: a write waits out a leader change, which a busy two-core machine can stretch.
    timeoutMs: 20_000,
    attemptTimeoutMs: 500,
    ...options,
  });
  clients.push(c);
  return c;
}

function sigkill(pid: number): void {
  process.kill(pid, 'SIGKILL');
}

async function waitExited(pid: number): Promise<void> {
  await until(`pid ${pid} to exit`, 10_000, () => {
    const stat = readProcStat(pid);
    return stat === null || stat.state === 'Z' ? true : undefined;
  });
}

/** Restarts a member by the cluster file's command line and waits until it has applied `index`. */
async function restartAndCatchUp(id: string): Promise<MemberStatus> {
  const r = await cli('cluster', 'restart', id);
  expect(r.err).toEqual([]);
  expect(r.code).toBe(ExitCode.Ok);
  const { status: lead } = await leader(ids());
  return until(`${id} to apply up to ${lead.commitIndex}`, 30_000, async () => {
    const s = await statusOf(id);
    return s !== null && s.appliedIndex >= lead.commitIndex ? s : undefined;
  });
}

const asMap = (items: readonly KeyValue[]): Map<string, string> =>
  new Map(items.map((kv) => [text(kv.key), text(kv.value)]));

describe.skipIf(!existsSync(MAIN))('KvClient and keel put/get against real keel node processes', () => {
  beforeAll(async () => {
    await upDetached(cli);
  }, 60_000);

  it('keeps every acknowledged write across a leader crash, and the crashed member catches up', async () => {
    const { id: lead } = await leader(ids());
    const follower = ids().find((x) => x !== lead) as string;
    const viaFollower = client([endpointOf(follower)]);
    const viaLeader = client([endpointOf(lead)]);
    const expected = new Map<string, string>();
    const writes = Array.from({ length: 1000 }, (_v, i) => {
      const key = `k/${String(i).padStart(4, '0')}`;
      const value = `v${i}-${'x'.repeat(i % 17)}`;
      return (i % 2 === 0 ? viaFollower : viaLeader).put(key, value).then((r) => {
        expect(r.ok).toBe(true);
        expected.set(key, value);
      });
    });
    await Promise.all(writes);
    expect(expected.size).toBe(1000);

    const pid = (await statusOf(lead))?.pid as number;
    sigkill(pid);
    await waitExited(pid);
    const survivors = ids().filter((x) => x !== lead);
    const { id: next } = await leader(survivors);
    expect(next).not.toBe(lead);

    // Linearizable reads from each survivor alone: followers serve them through ReadIndex.
    for (const id of survivors) {
      const items = await client([endpointOf(id)]).scanAll({ prefix: 'k/' });
      expect(asMap(items)).toEqual(expected);
      const one = await client([endpointOf(id)]).get('k/0999');
      expect(one.kv && text(one.kv.value)).toBe(expected.get('k/0999'));
    }

    // Caught up; its role is not asserted: a busy machine may legitimately hand it leadership again.
    await restartAndCatchUp(lead);
    const items = await client([endpointOf(lead)]).scanAll({ prefix: 'k/' }, { consistency: 'stale' });
    expect(asMap(items)).toEqual(expected);
  }, 120_000);

  it('applies each retried write exactly once across a leader kill (a cas counter)', async () => {
    const all = ids().map(endpointOf);
    const members = new Map(ids().map((id) => [id, endpointOf(id)]));
    await client(all).put('counter', '0');
    let acked = 0;
    let killed: string | null = null;
    const increment = async (kv: KvClient): Promise<void> => {
      let current = await kv.get('counter');
      for (;;) {
        const version = current.kv?.version ?? 0;
        const n = Number(text(current.kv?.value ?? new Uint8Array()));
        const r = await kv.cas('counter', { version }, String(n + 1));
        if (r.ok) {
          acked++;
          return;
        }
        current = { ok: true, type: 'get', revision: r.revision, kv: r.current };
      }
    };
    const worker = async (): Promise<void> => {
      const kv = client(all, { members, sessions: 1 });
      for (let i = 0; i < 15; i++) {
        await increment(kv);
        if (acked >= 10 && killed === null) {
          killed = 'pending';
          const { id, status } = await leader(ids());
          killed = id;
          sigkill(status.pid as number);
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    expect(killed).toMatch(/^n\d$/);
    const survivors = ids().filter((x) => x !== killed);
    const final = await client(survivors.map(endpointOf)).get('counter');
    expect(acked).toBe(45);
    expect(Number(text(final.kv?.value ?? new Uint8Array()))).toBe(acked);
    await restartAndCatchUp(killed as unknown as string);
  }, 120_000);

  it('moves leadership on SIGTERM without failing writes in flight', async () => {
    const { id: lead, status } = await leader(ids());
    const kv = client(ids().map(endpointOf));
    let stop = false;
    let done = 0;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const r = await kv.put(`t/${w}/${i}`, String(i));
        expect(r.ok).toBe(true);
        done++;
      }
    };
    const writers = Array.from({ length: 8 }, (_v, w) => writer(w));
    await until('writes under way', 5000, () => (done > 50 ? true : undefined));
    process.kill(status.pid as number, 'SIGTERM');
    await waitExited(status.pid as number);
    const before = done;
    const survivors = ids().filter((x) => x !== lead);
    const { id: next } = await leader(survivors);
    expect(next).not.toBe(lead);
    await until('writes to continue under the new leader', 20_000, () =>
      done > before + 50 ? true : undefined,
    );
    stop = true;
    await Promise.all(writers); // any failed write rejects here
    await restartAndCatchUp(lead);
  }, 120_000);

  it('answers malformed requests with bad-request and keeps serving', async () => {
    const { id: lead } = await leader(ids());
    const conn = new ClientConnection({ address: `tcp://${endpointOf(lead)}`, timeoutMs: 2000 });
    try {
      let seed = 12345;
      const random = (): number => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed;
      };
      const good = encodeRequest({
        command: { type: 'put', key: new Uint8Array([1]), value: new Uint8Array([2]) },
        consistency: 'linearizable',
      }).slice();
      const payloads: Uint8Array[] = [
        new Uint8Array(0),
        new Uint8Array([1]),
        new Uint8Array([9, 0, 1]), // unknown version
        new Uint8Array([1, 7, 1]), // unknown consistency
        new Uint8Array([1, 0, 99]), // unknown command
        good.subarray(0, good.length - 1), // truncated
        new Uint8Array([...good, 0]), // trailing byte
        new Uint8Array([1, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]), // a 4 GiB key length
      ];
      for (let i = 0; i < 200; i++) {
        payloads.push(Uint8Array.from({ length: random() % 64 }, () => random() & 0xff));
      }
      const replies = await Promise.all(payloads.map((p) => conn.request(p).then(decodeResponse)));
      for (const [i, r] of replies.entries()) {
        if (r.kind === 'error') expect(r.code, `payload ${i}`).toBe('bad-request');
      }
      // The hand-made ones are all malformed.
      for (const r of replies.slice(0, 8)) expect(r.kind).toBe('error');
    } finally {
      await conn.close();
    }
    const kv = client(ids().map(endpointOf));
    expect((await kv.put('after-garbage', 'ok')).ok).toBe(true);
    const got = await kv.get('after-garbage');
    expect(got.kv && text(got.kv.value)).toBe('ok');
    // Still a cluster with a leader (which one may have changed meanwhile: nothing to assert there).
    await leader(ids());
  }, 60_000);

  it('keel put a 1, then keel get a prints 1; misuse gets one line and its exit code', async () => {
    const put = await cli('put', 'a', '1');
    expect(put).toEqual({ code: ExitCode.Ok, out: ['OK'], err: [] });
    expect(await cli('get', 'a')).toEqual({ code: ExitCode.Ok, out: ['1'], err: [] });
    expect(await cli('get', 'missing')).toEqual({
      code: ExitCode.Failure,
      out: [],
      err: ['keel get: "missing" not found'],
    });
    const json = await cli('get', 'a', '--json');
    expect(JSON.parse(json.out.join(''))).toMatchObject({ key: 'a', value: '1', version: 1 });
    expect(await cli('cas', 'a', '1', '2')).toEqual({ code: ExitCode.Ok, out: ['OK'], err: [] });
    expect(await cli('cas', 'a', '1', '3')).toEqual({
      code: ExitCode.Failure,
      out: [],
      err: ["keel cas: comparison failed, nothing written: 'a' is '2' (version 2), expected '1'"],
    });
    expect((await cli('scan', '--prefix', 'a')).out).toEqual(['a\t2', 'after-garbage\tok']);
    expect((await cli('del', 'a')).out).toEqual(['1']);

    expect(await cli('put', 'a')).toEqual({
      code: ExitCode.Usage,
      out: [],
      err: ["keel put: missing <value> (usage: keel put <key> <value>); run 'keel put --help'"],
    });
    const empty = join(tmp.path, 'none');
    const c = capture({ env });
    expect(await runCli(['get', 'a', '--dir', empty], c.io)).toBe(ExitCode.NoCluster);
    expect(c.err).toEqual([
      `keel get: no cluster running in ${empty}; start one with 'keel cluster up --dir ${empty}' or name members with --endpoints host:port,... (or KEEL_ENDPOINTS)`,
    ]);
  }, 60_000);
});
