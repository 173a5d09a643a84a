import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { runSeed, type SimOptions } from '@keel/sim';

/** What the runner reports per seed (small enough to pass between threads by the thousand). */
export interface SeedOutcome {
  readonly seed: number;
  readonly ok: boolean;
  readonly nodes: number;
  readonly violations: readonly string[];
}

export interface ChunkJob {
  readonly id: number;
  readonly start: number;
  readonly count: number;
}

export interface ChunkDone {
  readonly id: number;
  readonly outcomes: readonly SeedOutcome[];
}

export interface RunSeedsOptions {
  readonly start: number;
  readonly count: number;
  readonly sim: SimOptions;
  /** Worker threads; 1 runs everything on this thread. Default: available cores. */
  readonly workers?: number;
  /** Called for every seed, in seed order. */
  readonly onOutcome: (o: SeedOutcome) => void;
}

export function runChunk(job: ChunkJob, sim: SimOptions): ChunkDone {
  const outcomes: SeedOutcome[] = [];
  for (let seed = job.start; seed < job.start + job.count; seed++) {
    const r = runSeed(seed, sim);
    outcomes.push({ seed, ok: r.ok, nodes: r.stats.nodes, violations: r.violations });
  }
  return { id: job.id, outcomes };
}

/** Below this many seeds, starting threads costs more than they save. */
const MIN_SEEDS_FOR_WORKERS = 1000;

/**
 * Runs seeds start .. start+count-1, on worker threads when there are enough of them. Chunks are
 * handed out as workers free up, and outcomes are reported in seed order whatever thread ran them.
 */
export async function runSeeds(o: RunSeedsOptions): Promise<void> {
  // Threads only pay off for long runs, unless asked for explicitly.
  const wanted = o.workers ?? (o.count >= MIN_SEEDS_FOR_WORKERS ? availableParallelism() : 1);
  const workers = Math.min(wanted, Math.ceil(o.count / 2));
  if (workers <= 1) {
    for (let seed = o.start; seed < o.start + o.count; seed++) {
      const done = runChunk({ id: 0, start: seed, count: 1 }, o.sim);
      o.onOutcome(done.outcomes[0]!);
      // Let progress timers and signals through on long runs.
      if ((seed - o.start) % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    return;
  }

  const chunkSize = Math.max(1, Math.min(100, Math.ceil(o.count / (workers * 8))));
  const jobs: ChunkJob[] = [];
  for (let s = o.start, id = 0; s < o.start + o.count; s += chunkSize, id++) {
    jobs.push({ id, start: s, count: Math.min(chunkSize, o.start + o.count - s) });
  }
  const finished = new Map<number, readonly SeedOutcome[]>();
  let nextToReport = 0;
  let nextJob = 0;
  const spawn = workerFactory();

  await new Promise<void>((resolve, reject) => {
    let live = workers;
    const pool: Worker[] = [];
    const fail = (err: unknown): void => {
      for (const w of pool) void w.terminate();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const feed = (w: Worker): void => {
      const job = jobs[nextJob++];
      if (job === undefined) {
        void w.terminate();
        if (--live === 0) resolve();
        return;
      }
      w.postMessage(job);
    };
    for (let i = 0; i < workers; i++) {
      const w = spawn({ sim: o.sim });
      pool.push(w);
      w.on('message', (done: ChunkDone) => {
        finished.set(done.id, done.outcomes);
        while (finished.has(nextToReport)) {
          for (const out of finished.get(nextToReport)!) o.onOutcome(out);
          finished.delete(nextToReport++);
        }
        feed(w);
      });
      w.on('error', fail);
      feed(w);
    }
  });
}

/**
 * Workers for the built code load worker.js directly. From the TypeScript sources (`pnpm sim` runs
 * them through tsx), a worker first loads tsx's hooks, because Node 20 does not run the parent's
 * `--import` in worker threads.
 */
function workerFactory(): (data: unknown) => Worker {
  if (!import.meta.url.endsWith('.ts')) {
    const url = new URL('./worker.js', import.meta.url);
    return (workerData) => new Worker(url, { workerData });
  }
  const tsx = import.meta.resolve('tsx/esm/api');
  const worker = new URL('./worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(worker)}); });`;
  return (workerData) => new Worker(boot, { eval: true, workerData });
}
