import type { HistogramData } from './histogram.js';
import type { WatchCounts } from './watchMatch.js';

/** The system under load: Keel, or etcd for the comparison runs. */
export type BenchSystem = 'keel' | 'etcd';

/** One load step as a client process runs it. */
export interface WorkerStep {
  readonly system: BenchSystem;
  /** Closed-loop clients in this process; each keeps exactly one request outstanding. */
  readonly clients: number;
  /** Where writes go (the leader's client endpoint, `host:port`). */
  readonly writeEndpoint: string;
  /** Where reads go, round-robin per client. */
  readonly readEndpoints: readonly string[];
  /** Fraction of operations that are reads (0 = write only, 1 = read only). */
  readonly readRatio: number;
  readonly consistency: 'linearizable' | 'stale';
  /**
   * Writes are transactions: if key A exists (version > 0; the keyspace is written first), put A
   * and the next key B, else get A; A is drawn like a put's key. One log entry, one revision.
   */
  readonly txn?: boolean;
  readonly valueSize: number;
  readonly keyspace: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Per-attempt reply timeout. */
  readonly timeoutMs: number;
  /** Attempts per operation (the first try included) before it counts as an error. */
  readonly attempts: number;
}

/** `keel bench watch`: the watchers one client process opens (all on one prefix). */
export interface WatchSpec {
  readonly system: BenchSystem;
  /** Every member's client endpoint; watcher i (global index) watches on endpoint i mod n. */
  readonly endpoints: readonly string[];
  readonly prefix: string;
  /** Watchers in this process, and the global index of its first. */
  readonly watchers: number;
  readonly firstIndex: number;
}

/** `keel bench watch`: the writers' load (one process, `writers` closed-loop writers). */
export interface WriteSpec {
  readonly system: BenchSystem;
  /** The leader's client endpoint. */
  readonly endpoint: string;
  readonly prefix: string;
  readonly writers: number;
  /** Puts per second over all writers, paced; 0 = flat out (one put outstanding per writer). */
  readonly rate: number;
  readonly valueSize: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly timeoutMs: number;
}

export interface WriteResult {
  /** [revision, sent µs, ack µs] of every acknowledged put (warm-up included). */
  readonly acks: readonly (readonly [number, number, number])[];
  /** The measured window on the shared clock (µs). */
  readonly fromUs: number;
  readonly toUs: number;
  /** Puts acknowledged inside the measured window. */
  readonly puts: number;
  readonly errors: number;
  readonly errorCodes: Readonly<Record<string, number>>;
}

export interface WatchWorkerResult {
  readonly pid: number;
  readonly watchers: number;
  /** Watchers per endpoint. */
  readonly perEndpoint: Readonly<Record<string, number>>;
  readonly counts: WatchCounts;
  /** Latency of the measured receipts (commit proxy → receipt). */
  readonly histogram: HistogramData;
  /** The same from the put being sent (an upper bound of commit → receipt). */
  readonly fromSend: HistogramData;
  /** Watchers that had received the last acked revision when the drain ended. */
  readonly caughtUp: number;
  /** Watchers that ended before the drain, by reason (error code). */
  readonly ended: Readonly<Record<string, number>>;
  /** Between the bench's two `watch-mark`s (the measured window), else from opening to the drain. */
  readonly windowMs: number;
  readonly cpuMs: number;
  readonly rssBytes: number;
}

export type ToWorker =
  | { readonly type: 'run'; readonly step: WorkerStep }
  | { readonly type: 'watch'; readonly spec: WatchSpec }
  | {
      readonly type: 'watch-drain';
      readonly acks: readonly (readonly [number, number, number])[];
      readonly fromUs: number;
      readonly toUs: number;
      /** Wait (bounded) until every watcher has received this revision. */
      readonly lastRevision: number;
      readonly drainMs: number;
    }
  | { readonly type: 'watch-write'; readonly spec: WriteSpec }
  /** The measured window starts (first mark) or ends (second): the watcher processes sample their CPU. */
  | { readonly type: 'watch-mark' }
  | {
      readonly type: 'fill';
      readonly system: BenchSystem;
      readonly endpoint: string;
      readonly keyspace: number;
      readonly valueSize: number;
    }
  | { readonly type: 'exit' };

export interface WorkerResult {
  readonly pid: number;
  readonly clients: number;
  /** Operations completed inside the measured window. */
  readonly ops: number;
  /** Operations that failed after every attempt (inside the window). */
  readonly errors: number;
  /** Attempts that failed and were tried again (inside the window). */
  readonly retries: number;
  /** Error codes seen, with counts (for the report). */
  readonly errorCodes: Readonly<Record<string, number>>;
  readonly histogram: HistogramData;
  /** Measured window, ms. */
  readonly windowMs: number;
  readonly cpuMs: number;
  readonly rssBytes: number;
}

export type FromWorker =
  | { readonly type: 'ready'; readonly pid: number }
  | { readonly type: 'measuring' }
  | { readonly type: 'progress'; readonly ops: number }
  | { readonly type: 'done'; readonly result: WorkerResult }
  | { readonly type: 'filled'; readonly keys: number }
  | { readonly type: 'watching'; readonly watchers: number }
  | { readonly type: 'watch-done'; readonly result: WatchWorkerResult }
  | { readonly type: 'written'; readonly result: WriteResult }
  | { readonly type: 'error'; readonly message: string };
