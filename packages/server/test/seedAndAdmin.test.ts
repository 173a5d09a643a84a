import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientConnection } from '@keel/transport-zmq';
import { afterAll, describe, expect, it } from 'vitest';
import { Counter, counterService, freePort } from '../examples/counter.js';
import { ConfigError, type MemberHandle, type PeerAddress, seedDataDir, startMember } from '../src/index.js';

/** Polls `probe` until it returns a value, for at most `ms`. */
async function until<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Started {
  members: MemberHandle[];
  counters: Counter[];
  http: string[];
  add(n: number): Promise<number>;
  close(): Promise<void>;
}

async function startCluster(
  dir: string,
  ids: string[],
  seed?: (ids: string[], at: Addresses) => Promise<void>,
) {
  const at: Addresses = { peers: [], clients: [], http: [] };
  for (const id of ids) {
    at.peers.push({ id, host: '127.0.0.1', port: await freePort() });
    at.clients.push({ id, host: '127.0.0.1', port: await freePort() });
    at.http.push({ id, host: '127.0.0.1', port: await freePort() });
  }
  await seed?.(ids, at);
  const counters = ids.map(() => new Counter());
  const members = await Promise.all(
    ids.map((id, i) =>
      startMember({
        id,
        clusterId: 'test',
        dataDir: join(dir, id),
        peers: at.peers,
        clients: at.clients,
        http: at.http[i]!,
        stateMachine: counters[i]!,
        service: counterService,
      }),
    ),
  );
  const conns = at.clients.map((c) => new ClientConnection({ address: `tcp://${c.host}:${c.port}` }));
  const started: Started = {
    members,
    counters,
    http: at.http.map((h) => `${h.host}:${h.port}`),
    add: async (n) => {
      const deadline = performance.now() + 10_000;
      for (let i = 0; ; i++) {
        const reply = JSON.parse(
          new TextDecoder().decode(
            await conns[i % conns.length]!.request(new TextEncoder().encode(JSON.stringify({ add: n })), {
              timeoutMs: 2000,
            }),
          ),
        ) as { value?: number; message?: string };
        if (reply.value !== undefined) return reply.value;
        if (performance.now() > deadline) throw new Error(reply.message);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: async () => {
      await Promise.all(conns.map((c) => c.close()));
      await Promise.all(members.map((m) => m.close()));
    },
  };
  return started;
}

interface Addresses {
  peers: PeerAddress[];
  clients: PeerAddress[];
  http: PeerAddress[];
}

const hp = (a: PeerAddress): string => `${a.host}:${a.port}`;

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('GET /snapshot, POST /leader and seedDataDir (a backup restored into a new cluster)', () => {
  it('streams a fresh snapshot, moves leadership, and a seeded cluster starts with the state', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-seed-'));
    dirs.push(dir);
    const a = await startCluster(join(dir, 'old'), ['a', 'b', 'c']);
    let bytes: Uint8Array;
    let index: number;
    try {
      for (let i = 1; i <= 5; i++) await a.add(i);
      // A fresh snapshot, even from a follower that may lag, holds every acknowledged write
      // (ReadIndex first; without it this read 10 here once: the follower had not applied the last add).
      const res = await fetch(`http://${a.http[1]}/snapshot?fresh=1`);
      expect(res.status).toBe(200);
      bytes = new Uint8Array(await res.arrayBuffer());
      expect(new TextDecoder().decode(bytes)).toBe('15');
      index = Number(res.headers.get('x-keel-snapshot-index'));
      expect(index).toBeGreaterThan(5);
      expect(res.headers.get('x-keel-cluster-id')).toBe('test');
      expect(res.headers.get('x-keel-member')).toBe('b');
      expect(res.headers.get('x-keel-snapshot-voters')).toBe('a,b,c');

      // Leadership moves to a follower through the leader; a follower refuses with a hint.
      // Leadership moves to a follower through the leader; a follower refuses with a hint. Who
      // leads may change meanwhile (an election on a busy machine): each step asks the member
      // that leads at that moment, and a 421 from a former leader is asked again.
      const ids = ['a', 'b', 'c'];
      const leaderNow = (): Promise<number> =>
        until('a leader', 10_000, () => {
          const i = a.members.findIndex((m) => m.status().role === 'leader');
          return i < 0 ? undefined : i;
        });
      const post = (at: string, body: unknown) =>
        fetch(`http://${at}/leader`, { method: 'POST', body: JSON.stringify(body) });
      const toLeader = (body: unknown) =>
        until('an answer from the leader', 10_000, async () => {
          const r = await post(a.http[await leaderNow()]!, body);
          return r.status === 421 ? undefined : r;
        });
      const leader = await leaderNow();
      const follower = (leader + 1) % 3;
      const refused = await post(a.http[follower]!, { to: ids[follower] });
      expect(refused.status).toBe(421);
      expect(await refused.json()).toMatchObject({ ok: false, reason: 'not-leader' });
      const unknown = await toLeader({ to: 'zz' });
      expect(unknown.status).toBe(400);
      expect(await unknown.json()).toMatchObject({ ok: false, reason: 'unknown-member' });
      expect((await toLeader({ nope: 1 })).status).toBe(400);
      const target = (((await leaderNow()) + 1) % 3) as number;
      const moved = await toLeader({ to: ids[target] });
      expect(moved.status).toBe(202);
      // A leader abandons a transfer that takes longer than an election timeout (a busy machine):
      // ask again until the target leads.
      await until(`${ids[target]} to lead`, 20_000, async () => {
        if (a.members[target]!.status().role === 'leader') return true;
        await new Promise((r) => setTimeout(r, 200));
        if (a.members[target]!.status().role !== 'leader') await toLeader({ to: ids[target] });
        return undefined;
      });
    } finally {
      await a.close();
    }

    // A non-empty data dir is refused.
    await writeFile(join(dir, 'old', 'a', 'x'), 'x');
    await expect(
      seedDataDir({
        dataDir: join(dir, 'old', 'a'),
        id: 'a',
        clusterId: 'new',
        members: [{ id: 'a', addresses: { peer: '127.0.0.1:1', client: '', http: '' } }],
        data: bytes,
        index,
      }),
    ).rejects.toBeInstanceOf(ConfigError);

    const b = await startCluster(join(dir, 'new'), ['x', 'y', 'z'], async (ids, at) => {
      for (const id of ids) {
        await seedDataDir({
          dataDir: join(dir, 'new', id),
          id,
          clusterId: 'test',
          members: ids.map((m, i) => ({
            id: m,
            addresses: { peer: hp(at.peers[i]!), client: hp(at.clients[i]!), http: hp(at.http[i]!) },
          })),
          data: bytes,
          index,
        });
      }
    });
    try {
      expect(b.counters.map((c) => c.value)).toEqual([15, 15, 15]);
      expect(b.members[0]!.status().appliedIndex).toBe(index);
      expect(await b.add(1)).toBe(16);
      await until('every member to apply the add', 10_000, () =>
        b.counters.every((c) => c.value === 16) ? true : undefined,
      );
      expect(b.members[2]!.status().conf.voters).toEqual(['x', 'y', 'z']);
      expect(b.members[2]!.status().term).toBeGreaterThanOrEqual(1);
    } finally {
      await b.close();
    }
  }, 90_000);
});
