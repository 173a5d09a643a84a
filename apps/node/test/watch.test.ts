import { KvClientError, type WatchBatch } from '@keel/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCluster, startInProcessCluster } from './helpers/inProcess.js';

const text = new TextDecoder();

/**
 * Reads a watch until it delivered `last()` (a revision, or Infinity while not known yet), or `ms`
 * passed; returns every event's revision and key, and the endpoints that served them.
 */
async function collect(
  watch: AsyncGenerator<WatchBatch>,
  last: () => number,
  ms = 60_000,
  onBatch: (b: WatchBatch) => void | Promise<void> = () => undefined,
): Promise<{ revisions: number[]; keys: string[]; endpoints: Set<string> }> {
  const revisions: number[] = [];
  const keys: string[] = [];
  const endpoints = new Set<string>();
  const deadline = performance.now() + ms;
  // The watches yield progress batches too, so the loop sees `last()` change even when quiet.
  for await (const batch of watch) {
    for (const e of batch.events) {
      revisions.push(e.kv.modRevision);
      keys.push(text.decode(e.kv.key));
    }
    endpoints.add(batch.endpoint);
    await onBatch(batch);
    if (batch.revision >= last() || performance.now() > deadline) break;
  }
  return { revisions, keys, endpoints };
}

let cluster: InProcessCluster;
/** Members a test stopped (by index). */
const down = new Set<number>();

beforeAll(async () => {
  // Small bounds, so the compacted and slow-watcher cases need few writes.
  cluster = await startInProcessCluster(3, { watch: { maxBytes: 256 * 1024, maxBacklogEvents: 100 } });
});

afterAll(async () => {
  await cluster?.close();
});

describe('watch on a 3-member cluster (in process)', () => {
  it('a watcher on every member gets exactly the revisions of the puts, in order', async () => {
    const writer = cluster.client();
    const first = await writer.put('w/0', 'v0');
    const watches = cluster.endpoints.map((_e, i) =>
      cluster
        .client([i])
        .watch('w/', { prefix: true, fromRevision: first.revision, progress: true, progressMs: 200 }),
    );
    const N = 200;
    const written = [first.revision];
    let last = Number.POSITIVE_INFINITY;
    const reading = watches.map((w) => collect(w, () => last));
    for (let i = 1; i <= N; i++) {
      written.push((await writer.put(`w/${i % 7}`, `v${i}`)).revision);
      if (i % 50 === 0) await writer.put('other', 'not watched');
    }
    last = written[written.length - 1]!;
    for (const [i, r] of (await Promise.all(reading)).entries()) {
      expect(r.revisions, `watcher on member ${i + 1}`).toEqual(written);
      expect([...r.endpoints]).toEqual([cluster.endpoints[i]]);
    }
  });

  it('refuses a start older than every member’s window as compacted, naming the oldest revision', async () => {
    const writer = cluster.client();
    const big = 'x'.repeat(100 * 1024);
    for (let i = 0; i < 4; i++) await writer.put(`big/${i}`, big);
    const err = await (async () => {
      for await (const _ of cluster.client().watch('big/', { prefix: true, fromRevision: 1 })) break;
    })().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KvClientError);
    expect((err as KvClientError).code).toBe('KEEL_CLIENT_COMPACTED');
    expect((err as KvClientError).oldestRevision).toBeGreaterThan(1);
    expect((err as KvClientError).message).toMatch(/oldest revision available is \d+/);
  });

  it('cancels a watcher that stops reading as slow-watcher once its backlog passes the bound', async () => {
    const writer = cluster.client();
    const start = (await writer.put('s/0', 'v')).revision;
    const watch = cluster.client([1]).watch('s/', { prefix: true, fromRevision: start });
    const firstBatch = await watch.next();
    expect(firstBatch.done).toBe(false);
    for (let i = 1; i <= 120; i++) await writer.put(`s/${i}`, 'v');
    // The member's watcher is gone once the backlog passed 100 events; the next read says why.
    await expect(
      (async () => {
        for (;;) if ((await watch.next()).done) return;
      })(),
    ).rejects.toMatchObject({ code: 'KEEL_CLIENT_SLOW_WATCHER' });
  });

  it('a watch resumes on another member when its member stops: no gap, no duplicate', async () => {
    const writer = cluster.client();
    const start = (await writer.put('r/0', 'v')).revision;
    const watcher = cluster.client(undefined, { timeoutMs: 30_000 });
    const watch = watcher.watch('r/', { prefix: true, fromRevision: start, progress: true, progressMs: 200 });
    const N = 60;
    const written = [start];
    let stopped: string | null = null;
    let last = Number.POSITIVE_INFINITY;
    const reading = collect(
      watch,
      () => last,
      90_000,
      async (batch) => {
        // Stop the member serving the watch once it delivered something past the start.
        if (stopped === null && batch.revision > start) {
          stopped = batch.endpoint;
          const i = cluster.endpoints.indexOf(batch.endpoint);
          down.add(i);
          await cluster.members[i]!.close();
        }
      },
    );
    for (let i = 0; i < N; i++) written.push((await writer.put(`r/${i % 5}`, `v${i}`)).revision);
    last = written[written.length - 1]!;
    const r = await reading;
    expect(stopped).not.toBeNull();
    expect(r.revisions).toEqual(written);
    expect(r.endpoints.size).toBeGreaterThan(1);
  });

  it('a member cut off from the cluster (no leader known) refuses watches, so they move elsewhere', async () => {
    // One member is down already (the test above); stop one more: the last one loses its leader.
    const live = cluster.members.map((m, i) => ({ m, i })).filter(({ i }) => !down.has(i));
    for (const { m } of live.slice(1)) await m.close();
    const { m: alone, i } = live[0]!;
    const deadline = performance.now() + 30_000;
    while (alone.status().leader !== null && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(alone.status().leader).toBeNull();
    const watch = cluster
      .client([i], { timeoutMs: 2000, attemptTimeoutMs: 300 })
      .watch('x', { progressMs: 200 });
    // Before the rule, the member served it: progress forever from a member that hears no writes.
    const outcome = await Promise.race([
      watch.next().then(
        () => 'served',
        (err: unknown) => err,
      ),
      new Promise((r) => setTimeout(() => r('still waiting after 15 s'), 15_000)),
    ]);
    expect(outcome).toMatchObject({
      code: 'KEEL_CLIENT_UNAVAILABLE',
      message: expect.stringMatching(/no leader known/),
    });
    await watch.return();
  });
});
