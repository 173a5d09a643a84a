/**
 * The job queue on a 3-member cluster in this process: enqueue ten jobs, work them off with one
 * worker, crash the leader halfway, finish on the survivors.
 *
 *   pnpm --filter @keel/example-job-queue demo
 */
import { JobQueueClient, startInProcessCluster } from './src/index.js';

const cluster = startInProcessCluster(['a', 'b', 'c']);
const producer = new JobQueueClient(cluster.propose);
const worker = new JobQueueClient(cluster.propose, { worker: 'w1', leaseMs: 5_000 });

for (let i = 1; i <= 10; i++) await producer.enqueue(new TextEncoder().encode(`email #${i}`));

for (let done = 0; done < 10; ) {
  if (done === 5) {
    const leader = cluster.leader();
    if (leader !== null) {
      console.log(`crashing the leader, ${leader.id}`);
      await cluster.kill(leader.id);
    }
  }
  const claimed = await worker.claim();
  if (claimed === null) break;
  const { job, leaseId } = claimed;
  console.log(`job ${job.id} (attempt ${job.attempt}): ${new TextDecoder().decode(job.payload)}`);
  if (await worker.ack(leaseId)) done++;
}

// Followers learn the last commit with the leader's next message: wait (bounded) until all applied it.
const members = [...cluster.members.values()];
for (let waited = 0; waited < 5_000; waited += 10) {
  const commit = Math.max(...members.map((m) => m.node.status().commitIndex));
  if (members.every((m) => m.node.status().appliedIndex === commit)) break;
  await new Promise((r) => setTimeout(r, 10));
}
for (const m of members) {
  const v = m.queue.view();
  console.log(`${m.id}: ${v.done} done, ${v.queued.length} queued, ${v.leased.length} leased`);
}
await cluster.close();
