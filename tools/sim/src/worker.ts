import { parentPort, workerData } from 'node:worker_threads';
import type { SimOptions } from '@keel/sim';
import { type ChunkJob, runChunk } from './runner.js';

// One simulation thread: runs the chunks of seeds it is handed and sends back their outcomes.
const { sim } = workerData as { sim: SimOptions };
parentPort?.on('message', (job: ChunkJob) => {
  parentPort?.postMessage(runChunk(job, sim));
});
