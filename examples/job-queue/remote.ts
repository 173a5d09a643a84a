/**
 * A producer and a worker against job-queue members running as separate processes (README, "As
 * separate processes"): enqueue ten jobs through the client ports, work them off, print the queue.
 *
 *   pnpm remote --clients a=127.0.0.1:7201,b=127.0.0.1:7202,c=127.0.0.1:7203
 */
import { parseArgs } from 'node:util';
import { parsePeers } from '@keel/server';
import { JobQueueClient, RemoteJobQueue } from './src/index.js';

// `pnpm remote -- --x` passes the `--` on: skip it.
const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: { clients: { type: 'string', default: 'a=127.0.0.1:7201,b=127.0.0.1:7202,c=127.0.0.1:7203' } },
});
const members = parsePeers(values.clients);
if (!members.ok) throw new Error(members.message);

const queue = new RemoteJobQueue(members.value);
try {
  const producer = new JobQueueClient(queue.propose);
  const worker = new JobQueueClient(queue.propose, { worker: 'w1', leaseMs: 5_000 });
  for (let i = 1; i <= 10; i++) await producer.enqueue(new TextEncoder().encode(`email #${i}`));
  for (let claimed = await worker.claim(); claimed !== null; claimed = await worker.claim()) {
    const { job, leaseId } = claimed;
    console.log(`job ${job.id} (attempt ${job.attempt}): ${new TextDecoder().decode(job.payload)}`);
    if (!(await worker.ack(leaseId))) console.log(`job ${job.id}: lease lost, it will run again`);
  }
  // A linearizable read is served by the leader: ask each member until the leader answers.
  for (const m of members.value) {
    const view = await queue.view(m.id, 'linearizable').catch(() => null);
    if (view === null) continue;
    console.log(
      `${view.done} done, ${view.queued.length} queued, ${view.leased.length} leased (leader ${m.id})`,
    );
    break;
  }
} finally {
  await queue.close();
}
