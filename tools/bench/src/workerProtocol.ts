import type { HistogramData } from './histogram.js';

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

export type ToWorker =
  | { readonly type: 'run'; readonly step: WorkerStep }
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
  | { readonly type: 'error'; readonly message: string };
