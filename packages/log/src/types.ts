/** A pino-compatible logger (pino itself satisfies it); the WAL never depends on pino. */
export interface WalLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WalOptions {
  /**
   * Bytes per segment file (default 64 MiB). Segments are preallocated to this size; a record
   * larger than a segment gets a segment of its own that grows past it.
   */
  readonly segmentSize?: number;
  /**
   * Preallocate each new segment before use (default true): recycle the file of a segment freed
   * by compaction, else fill a new file with zeros and fsync it. Overwriting allocated blocks lets
   * fdatasync skip the metadata update an append needs.
   */
  readonly preallocate?: boolean;
  /**
   * Write segment files through O_DSYNC descriptors (default true, where the platform has O_DSYNC):
   * a group commit is then one write(2) per segment touched, returning once the data is durable,
   * instead of a write and then an fdatasync — one hand-off to libuv's thread pool instead of two
   * (about half the context switches and a third less CPU per commit, packages/log README). On a
   * preallocated segment neither needs a journal commit. false: write + fdatasync.
   */
  readonly dsync?: boolean;
  /** Byte budget of the in-memory cache of recent entries (default 64 MiB). */
  readonly cacheBytes?: number;
  readonly logger?: WalLogger;
  /**
   * Called after each fdatasync of a segment file with how long that call alone took, in seconds
   * (for a duration histogram: the disk's share of a commit, without the write or the batching).
   * With `dsync`, after each O_DSYNC write of a commit, with how long that write took (its copy
   * into the page cache included: a few µs beside the disk's share).
   * It runs inside the commit and must not throw.
   */
  readonly onFsync?: (seconds: number) => void;
}

/** Test-only view of what is on stable storage: used by power-loss emulation and the chaos tool. */
export interface SegmentSyncState {
  readonly file: string;
  /** Bytes from the start of the file known to be on stable storage (last fdatasync or O_DSYNC write). */
  readonly syncedBytes: number;
  /**
   * End of everything this segment has written or queued to write, synced or not. Past it the
   * file holds what it held before: zeros, or the stale records of a recycled file.
   */
  readonly writeEnd: number;
  /** Whether the file's directory entry is durable (the directory was fsynced after it appeared). */
  readonly nameDurable: boolean;
}

export interface WalMetrics {
  /**
   * Syncs of segment files: fdatasync calls, or O_DSYNC writes with `dsync` (one per group commit,
   * plus one per rotation).
   */
  readonly fsyncs: number;
  /** fsync calls on the directory (a new segment's name, a deleted segment): none in steady state. */
  readonly dirSyncs: number;
  /** Group commits completed: one write per segment touched and one fdatasync (or O_DSYNC writes). */
  readonly commits: number;
  /** Bytes written to segment files, headers and padding included. */
  readonly bytesWritten: number;
  /** Entries made durable. */
  readonly entriesDurable: number;
  /** append() calls made durable. */
  readonly appendsDurable: number;
  /** entriesDurable / fsyncs. */
  readonly entriesPerFsync: number;
  /** Next-segment files taken from segments freed by compaction (no zero-fill needed). */
  readonly segmentsRecycled: number;
  /** Next-segment files preallocated by writing zeros (and fsyncing them). */
  readonly segmentsZeroFilled: number;
}
