import { describe, expect, it } from 'vitest';
import { main, startCounterCluster } from '../examples/counter.js';

/** Polls `check` until it holds, for at most `ms`. */
async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** libuv resources that keep a process alive, by type (timers and sockets a member might leak). */
function liveResources(): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) out.set(r, (out.get(r) ?? 0) + 1);
  return out;
}

function leftOver(before: Map<string, number>): string[] {
  const now = liveResources();
  return [...now]
    .filter(([type, n]) => type !== 'FSReqCallback' && n > (before.get(type) ?? 0))
    .map(([type, n]) => `${type} x${n - (before.get(type) ?? 0)}`);
}

describe('a member of your own state machine (a replicated counter, 3 members in one process)', () => {
  it("runs the README's example: five adds through the client port, the sum read back", async () => {
    expect(await main()).toBe(15);
  }, 30_000);

  it('proposes through every member, reads back linearizably, replicates to all, and closes leaving nothing behind', async () => {
    const before = liveResources();
    const cluster = await startCounterCluster();
    try {
      // A write sent to any member takes effect once: followers forward it to the leader.
      let sum = 0;
      for (const [i, to] of ['a', 'b', 'c', 'b', 'a', 'c'].entries()) {
        sum += i + 1;
        expect(await cluster.call({ add: i + 1 }, to)).toBe(sum);
      }
      expect(await cluster.call({ read: true }, 'c')).toBe(sum);
      expect(await waitFor(() => cluster.counters.every((c) => c.value === sum), 10_000)).toBe(true);

      // The service's refusals come back as its own error replies.
      expect(await cluster.send('a', new TextEncoder().encode('{'))).toMatchObject({ error: 'bad-request' });
      expect(await cluster.send('a', new TextEncoder().encode('{"mul":2}'))).toMatchObject({
        error: 'unsupported',
      });

      // The handle: status, members and metrics of a non-KV member.
      const s = cluster.members[0]!.status();
      expect(s.conf.voters).toEqual(['a', 'b', 'c']);
      expect(s.stats.clientRequests).toBeGreaterThan(0);
      expect(s.stateHash).toBeUndefined();
      expect(cluster.members[1]!.members().members.map((m) => m.id)).toEqual(['a', 'b', 'c']);
      // Membership through the handle: promoting a member that is not a learner is refused on
      // every member (not-leader on followers, a refusal on the leader), never applied.
      for (const m of cluster.members) expect((await m.promoteMember('zz')).ok).toBe(false);
      expect(await cluster.members[2]!.metricsText()).toMatch(
        /keel_client_requests_total\{kind="add",node_id="c"\}/,
      );
    } finally {
      await cluster.close();
    }
    // Everything a member opened is closed: no timer, socket or handle outlives close().
    expect(await waitFor(() => leftOver(before).length === 0, 5000), leftOver(before).join(', ')).toBe(true);
  }, 60_000);
});
