import { afterEach, describe, expect, it } from 'vitest';
import { agreedLeader, startCluster, type TestMember } from './helpers/cluster.js';
import { killAll, status, waitFor } from './helpers/procs.js';

afterEach(killAll);

const post = (m: TestMember, path: string) =>
  fetch(`http://${m.httpHost}:${m.http}${path}`, { method: 'POST' }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as Record<string, unknown>,
  }));

// Fault injection on real processes: POST /isolate cuts a member off from its peers both ways,
// POST /heal reconnects it (what `keel cluster isolate|heal` and the dashboard call).
describe('isolating a member (real processes, --fault-injection)', () => {
  it('the others elect a leader without the isolated one; healed, it rejoins and follows', async () => {
    const members = await startCluster(3, '127.0.0.1', ['--fault-injection']);
    const first = await agreedLeader(members);
    expect(await post(first, '/isolate')).toEqual({ status: 200, body: { ok: true, isolated: true } });
    expect((await status(first.http)).isolated).toBe(true);
    const rest = members.filter((m) => m !== first);
    // The two that can still talk agree on a leader that is not the isolated member.
    const second = await waitFor(
      'a leader among the two connected members',
      async () => {
        const seen = await Promise.all(rest.map((m) => status(m.http)));
        const leader = seen[0]!.leader;
        return leader !== null && leader !== first.id && seen.every((s) => s.leader === leader)
          ? leader
          : undefined;
      },
      30_000,
    );
    expect(second).not.toBe(first.id);
    expect(await post(first, '/heal')).toEqual({ status: 200, body: { ok: true, isolated: false } });
    // Healed: all three agree on one leader again (whoever it is).
    await agreedLeader(members, 30_000);
    const after = await Promise.all(members.map((m) => status(m.http)));
    expect(after.map((s) => s.isolated)).toEqual([false, false, false]);
  });

  it('a member without --fault-injection refuses with 403 and stays connected', async () => {
    const members = await startCluster(3);
    const leader = await agreedLeader(members);
    const r = await post(leader, '/isolate');
    expect(r.status).toBe(403);
    expect(r.body.message).toMatch(/--fault-injection/);
    expect((await status(leader.http)).isolated).toBe(false);
  });
});
