/**
 * Group commit: appends that arrive while a write + fdatasync runs are collected (SegmentWriter's
 * pending batches) and go out together in the next one — one write() per segment touched and one
 * fdatasync — after which their callbacks run, in order. With O_DSYNC descriptors (WalOptions.dsync,
 * the default) the write is the sync: it returns once the data is durable, and no fdatasync follows.
 * Nothing is reported durable before its fdatasync (or O_DSYNC write) returns, and a failed write or
 * sync is fatal, never retried.
 */
import type { ColdReader } from './ColdReader.js';
import type { Counters } from './counters.js';
import { WalError, WalErrorCode } from './errors.js';
import { fdatasync, fsync, isDiskFull, writeAll } from './fileIo.js';
import type { Segment } from './Segment.js';
import type { SegmentFiles } from './SegmentFiles.js';
import type { Batch, Callback, SegmentWriter } from './SegmentWriter.js';
import type { WalLogger } from './types.js';

const RESOLVED = Promise.resolve();

/** What a commit was doing when it failed: a plain write, an fdatasync, or an O_DSYNC write (a sync). */
type Phase = 'write' | 'sync' | 'dsync';

/** Runs a caller's callback; one that throws must not leave a commit half-way. */
export function deliver(cb: Callback, err: Error | null): void {
  try {
    cb(err);
  } catch (e) {
    // A throwing callback is the caller's bug; it must not leave the store half-way through a
    // commit. Surface it as an uncaught exception on a later tick.
    setImmediate(() => {
      throw e;
    });
  }
}

export interface GroupCommitOptions {
  readonly dir: string;
  readonly dirFd: number;
  readonly writer: SegmentWriter;
  readonly files: SegmentFiles;
  readonly reader: ColdReader;
  readonly counters: Counters;
  readonly logger: WalLogger | undefined;
  readonly onFsync: ((seconds: number) => void) | undefined;
}

export class GroupCommit {
  readonly #dir: string;
  readonly #dirFd: number;
  readonly #writer: SegmentWriter;
  readonly #files: SegmentFiles;
  readonly #reader: ColdReader;
  readonly #counters: Counters;
  readonly #logger: WalLogger | undefined;
  readonly #onFsync: ((seconds: number) => void) | undefined;
  readonly #startFlush = () => void this.#flushLoop();
  /** Batches being written and synced now. */
  #inflight: Batch[] = [];
  #flushing = false;
  #idleWaiters: Array<() => void> = [];
  #failure: WalError | null = null;

  constructor(o: GroupCommitOptions) {
    this.#dir = o.dir;
    this.#dirFd = o.dirFd;
    this.#writer = o.writer;
    this.#files = o.files;
    this.#reader = o.reader;
    this.#counters = o.counters;
    this.#logger = o.logger;
    this.#onFsync = o.onFsync;
  }

  /** The error that stopped the store, or null. */
  get failure(): WalError | null {
    return this.#failure;
  }

  /** Batches taken by the commit running now (written or not yet). */
  get inflight(): readonly Batch[] {
    return this.#inflight;
  }

  /** No commit runs and none is owed: everything appended so far is durable. */
  get idle(): boolean {
    return this.#writer.pending.length === 0 && !this.#flushing;
  }

  /** Starts a commit of the pending batches unless one runs (it takes them when it is done). */
  kick(): void {
    if (this.#flushing || this.#writer.pending.length === 0 || this.#failure !== null) return;
    this.#flushing = true;
    // A microtask, not setImmediate: the first append of an idle log goes out at once; everything
    // appended while its write+fdatasync runs is coalesced into the next one. (A promise reaction
    // rather than queueMicrotask, which wraps every task in an AsyncResource: ~1 µs per commit.)
    RESOLVED.then(this.#startFlush);
  }

  /** Resolves once no commit runs and nothing is pending (or the store has failed). */
  whenIdle(): Promise<void> {
    if (!this.#flushing && (this.#writer.pending.length === 0 || this.#failure !== null)) return RESOLVED;
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** One fdatasync of a segment file, counted and timed (the call alone: `WalOptions.onFsync`). */
  async #fdatasync(seg: Segment): Promise<void> {
    const t0 = performance.now();
    await fdatasync(seg.fd!);
    this.#counters.fsyncs++;
    this.#onFsync?.((performance.now() - t0) / 1000);
  }

  async #flushLoop(): Promise<void> {
    const counters = this.#counters;
    while (this.#writer.pending.length > 0 && this.#failure === null) {
      const work = this.#writer.takePending();
      this.#inflight = work;
      let phase: Phase = 'write';
      try {
        let dirty: Segment | null = null;
        let created = false;
        for (const b of work) {
          if (b.create) {
            // A newer segment may exist only once the older one is complete on disk.
            if (dirty !== null) {
              phase = 'sync';
              await this.#fdatasync(dirty);
              dirty.syncedBytes = dirty.writtenBytes;
              dirty = null;
            }
            phase = 'write';
            await this.#files.materialize(b.seg);
            created = true;
          }
          const seg = b.seg;
          if (seg.dsync) {
            // An O_DSYNC descriptor: the write returns once the data is durable, so it is this
            // segment's sync as well (one thread-pool job for the commit instead of two). Its
            // failure is a failed sync: what reached the page cache is not known to be on disk.
            phase = 'dsync';
            const t0 = performance.now();
            await writeAll(seg.fd!, b.rb.buf, b.len, b.fileOffset);
            counters.fsyncs++;
            this.#onFsync?.((performance.now() - t0) / 1000);
          } else {
            phase = 'write';
            await writeAll(seg.fd!, b.rb.buf, b.len, b.fileOffset);
          }
          counters.bytesWritten += b.len;
          seg.writtenBytes = Math.max(seg.writtenBytes, b.fileOffset + b.len);
          // The cold-read window may hold what this range looked like before the write.
          this.#reader.forget(seg.seq);
          if (seg.dsync) seg.syncedBytes = seg.writtenBytes;
          else dirty = seg;
        }
        phase = 'sync';
        if (dirty !== null) {
          await this.#fdatasync(dirty);
          dirty.syncedBytes = dirty.writtenBytes;
        }
        if (created) {
          await fsync(this.#dirFd);
          counters.dirSyncs++;
        }
      } catch (err) {
        this.#inflight = [];
        this.#fail(err, phase, work);
        break;
      }
      this.#inflight = [];
      counters.commits++;
      for (const b of work) {
        if (b.create) b.seg.nameDurable = true;
        counters.entriesDurable += b.entries;
        counters.appendsDurable += b.appends;
      }
      for (const b of work) {
        for (const cb of b.callbacks) deliver(cb, null);
        this.#writer.recycle(b.rb);
      }
    }
    this.#flushing = false;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * A failed write or fsync is fatal: after a failed fdatasync the kernel may have dropped the dirty
   * pages, so a retry could "succeed" without the data. Every pending and later append gets the error.
   */
  #fail(err: unknown, phase: Phase, work: Batch[]): void {
    const code = isDiskFull(err)
      ? WalErrorCode.DiskFull
      : phase === 'write'
        ? WalErrorCode.WriteFailed
        : WalErrorCode.FsyncFailed;
    const what =
      code === WalErrorCode.DiskFull
        ? 'the disk is full'
        : phase === 'sync'
          ? 'fdatasync failed'
          : phase === 'dsync'
            ? 'a synchronous (O_DSYNC) write to the WAL failed'
            : 'a write to the WAL failed';
    const failure = new WalError(
      code,
      `WAL stopped: ${what} (${(err as Error)?.message ?? String(err)}); entries acknowledged before stay durable, nothing more is accepted`,
      { cause: err },
    );
    this.#failure = failure;
    this.#logger?.error({ err, code, dir: this.#dir }, 'WAL: stopped by an I/O failure');
    const pending = [...work, ...this.#writer.takePending()];
    for (const b of pending) for (const cb of b.callbacks) deliver(cb, failure);
  }
}
