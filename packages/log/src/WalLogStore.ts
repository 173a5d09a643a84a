/**
 * The durable LogStore, composed of one piece per concern:
 * - SegmentWriter: encodes appends into batches, keeps index and cache in step, rolls segments;
 * - GroupCommit: writes what accumulated while the last fdatasync ran, in one write + fdatasync;
 * - SegmentFiles: prepares the next segment's file (recycled or zero-filled), retires old ones;
 * - ColdReader: reads and verifies entries the cache no longer holds;
 * - recovery.ts: replays the directory on open. DirLock.ts: one process per directory.
 * See the package README for the format, the durability contract and the recovery rules.
 */
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import { type Entry, type HardState, type LogStore, takeWithinBytes } from '@keel/core';
import { ColdReader } from './ColdReader.js';
import { type Counters, metricsOf, newCounters } from './counters.js';
import { DirLock } from './DirLock.js';
import { EntryCache } from './EntryCache.js';
import { WalError, WalErrorCode } from './errors.js';
import { close, fdatasync, fsync, O_DSYNC, open, segmentFlags } from './fileIo.js';
import { FILE_HEADER_SIZE, recordSize } from './format.js';
import { deliver, GroupCommit } from './GroupCommit.js';
import type { LogIndex } from './LogIndex.js';
import { recover } from './recovery.js';
import type { Segment } from './Segment.js';
import { SegmentFiles } from './SegmentFiles.js';
import { type Batch, type Callback, SegmentWriter } from './SegmentWriter.js';
import type { SegmentSyncState, WalLogger, WalMetrics, WalOptions } from './types.js';

const DEFAULT_SEGMENT_SIZE = 64 * 1024 * 1024;
const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

/** What open() hands the constructor: the directory it owns and what recovery found there. */
interface Opened {
  readonly dir: string;
  readonly dirFd: number;
  readonly lock: DirLock;
  readonly index: LogIndex;
  readonly hardState: HardState;
  readonly segments: Segment[];
  readonly nextSeq: number;
  readonly saltKey: number;
}

/**
 * The durable LogStore: segmented, preallocated, checksummed files with group commit. See the
 * package README for the format, the durability contract and the recovery rules.
 */
export class WalLogStore implements LogStore {
  readonly #dir: string;
  readonly #dirFd: number;
  readonly #lock: DirLock;
  readonly #logger: WalLogger | undefined;
  readonly #index: LogIndex;
  readonly #cache: EntryCache;
  readonly #counters: Counters = newCounters();
  readonly #writer: SegmentWriter;
  readonly #files: SegmentFiles;
  readonly #reader = new ColdReader();
  readonly #commit: GroupCommit;
  #deleting: Promise<void> = Promise.resolve();
  #closed = false;

  /** Opens (creating or recovering) the log in `dir`. Use `openLog`. */
  static async open(dir: string, options: WalOptions = {}): Promise<WalLogStore> {
    await fs.promises.mkdir(dir, { recursive: true });
    // Before recovery: it cuts torn tails and deletes files, which only the owner may do.
    const lock = await DirLock.acquire(dir, options.logger);
    let dirFd: number | null = null;
    let tailFd: number | null = null;
    try {
      const rec = await recover(dir, options.logger);
      dirFd = await open(dir, 'r');
      const segments: Segment[] = rec.segments.map((s) => ({
        seq: s.seq,
        firstIndex: s.firstIndex,
        path: s.path,
        salt: s.salt,
        allocated: s.size,
        fd: null,
        dsync: false,
        readFd: null,
        writeOffset: s.size,
        entriesStart: FILE_HEADER_SIZE,
        writtenBytes: s.size,
        syncedBytes: s.size,
        nameDurable: true,
        sealed: true,
      }));
      const tail = segments[segments.length - 1] ?? null;
      if (tail) {
        const dsync = (options.dsync ?? true) && O_DSYNC !== null;
        tail.fd = tailFd = await open(tail.path, segmentFlags('r+', dsync));
        tail.dsync = dsync;
        tail.writeOffset = rec.writeOffset;
        tail.syncedBytes = rec.writeOffset;
        tail.writtenBytes = rec.writeOffset;
        tail.sealed = rec.sealed;
        // What recovery read may have been only in the page cache (the process died, the machine
        // did not): make it durable before the engine treats it as such.
        await fdatasync(tail.fd);
        await fsync(dirFd);
      }
      // A fresh directory draws its salt key; later segments derive their salts from it.
      const saltKey = rec.saltKey ?? randomInt(0, 2 ** 32 - 1);
      const opened: Opened = {
        dir,
        dirFd,
        lock,
        index: rec.index,
        hardState: rec.hardState,
        segments,
        nextSeq: rec.nextSeq,
        saltKey,
      };
      return new WalLogStore(opened, options);
    } catch (err) {
      if (tailFd !== null) await close(tailFd);
      if (dirFd !== null) await close(dirFd);
      await lock.release().catch(() => {});
      throw err;
    }
  }

  private constructor(o: Opened, options: WalOptions) {
    this.#lock = o.lock;
    this.#dir = o.dir;
    this.#dirFd = o.dirFd;
    this.#logger = options.logger;
    this.#index = o.index;
    this.#cache = new EntryCache(options.cacheBytes ?? DEFAULT_CACHE_BYTES);
    this.#cache.clear(o.index.last + 1);
    const segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    this.#writer = new SegmentWriter({
      dir: o.dir,
      segmentSize,
      saltKey: o.saltKey,
      index: o.index,
      cache: this.#cache,
      hardState: o.hardState,
      segments: o.segments,
      nextSeq: o.nextSeq,
    });
    this.#files = new SegmentFiles({
      dir: o.dir,
      dirFd: o.dirFd,
      segmentSize,
      preallocate: options.preallocate ?? true,
      dsync: options.dsync ?? true,
      counters: this.#counters,
      logger: options.logger,
    });
    this.#commit = new GroupCommit({
      dir: o.dir,
      dirFd: o.dirFd,
      writer: this.#writer,
      files: this.#files,
      reader: this.#reader,
      counters: this.#counters,
      logger: options.logger,
      onFsync: options.onFsync,
    });
    this.#files.startPrepare();
  }

  // ---- LogStorage -------------------------------------------------------------------------------

  initialState(): { readonly hardState: HardState } {
    return { hardState: this.#writer.hardState };
  }

  firstIndex(): number {
    return this.#index.first;
  }

  lastIndex(): number {
    return this.#index.last;
  }

  term(index: number): number {
    return this.#index.term(index);
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const idx = this.#index;
    if (lo < idx.first || hi > idx.last + 1 || lo > hi) {
      throw new WalError(
        WalErrorCode.InvalidArgument,
        `entries(${lo}, ${hi}) outside [${idx.first}, ${idx.last + 1}]`,
      );
    }
    return takeWithinBytes([], 0, lo, hi, maxBytes, (i) => this.#cache.get(i) ?? this.#readCold(i));
  }

  // ---- LogStore ---------------------------------------------------------------------------------

  append(
    entries: readonly Entry[],
    hardState: HardState | null,
    onDurable: (err: Error | null) => void,
  ): void {
    if (this.#closed) throw new WalError(WalErrorCode.Closed, 'append on a closed WAL');
    const failure = this.#commit.failure;
    if (failure !== null) {
      queueMicrotask(() => onDurable(failure));
      return;
    }
    const idx = this.#index;
    const n = entries.length;
    let bytes = 0;
    if (n > 0) {
      const first = entries[0]!.index;
      if (first < idx.first || first > idx.last + 1) {
        throw new WalError(
          WalErrorCode.InvalidArgument,
          `append at ${first} outside [${idx.first}, ${idx.last + 1}]`,
        );
      }
      for (let i = 0; i < n; i++) {
        const e = entries[i]!;
        if (
          e.index !== first + i ||
          !Number.isSafeInteger(e.term) ||
          e.term < 0 ||
          !(e.data instanceof Uint8Array)
        ) {
          throw new WalError(
            WalErrorCode.InvalidArgument,
            `append: malformed entry at position ${i} (index ${e.index})`,
          );
        }
        bytes += recordSize(e.data.byteLength);
      }
    }
    const writer = this.#writer;
    let batch: Batch | null = writer.appendEntries(entries, bytes);
    if (hardState !== null) batch = writer.appendHardState(hardState) ?? batch;
    if (batch === null) {
      if (this.#commit.idle) {
        // Nothing to write and nothing in flight: everything before is already durable.
        queueMicrotask(() => deliver(onDurable, null));
        return;
      }
      batch = writer.currentBatch();
    }
    batch.appends++;
    batch.callbacks.push(onDurable);
    this.#commit.kick();
  }

  /**
   * Drops the log up to `index` (a snapshot covers it; `term` is the term at `index`). If the log
   * does not hold `index` with `term` (snapshot install), it is emptied and restarts at index + 1.
   * Reads see the result at once.
   *
   * Promise form: resolves once the compaction is durable and the segments it freed are deleted (or
   * recycled). Callback form (core's `LogStore.compact`): `onDurable` fires once the compaction is
   * durable, in call order with `append` callbacks, with the same fatal-error rules; the freed
   * segments go in the background afterwards.
   */
  compact(index: number, term: number): Promise<void>;
  compact(index: number, term: number, onDurable: Callback): void;
  compact(index: number, term: number, onDurable?: Callback): Promise<void> | undefined {
    if (onDurable === undefined) {
      if (this.#closed) return Promise.reject(new WalError(WalErrorCode.Closed, 'compact on a closed WAL'));
      if (this.#commit.failure !== null) return Promise.reject(this.#commit.failure);
      return new Promise<void>((resolve, reject) =>
        this.#compact(index, term, (err, keepFrom) => {
          if (err) reject(err);
          else if (keepFrom === null) resolve();
          else this.#deleteBelow(keepFrom).then(resolve, reject);
        }),
      );
    }
    if (this.#closed) throw new WalError(WalErrorCode.Closed, 'compact on a closed WAL');
    const failure = this.#commit.failure;
    if (failure !== null) {
      queueMicrotask(() => onDurable(failure));
      return;
    }
    this.#compact(index, term, (err, keepFrom) => {
      deliver(onDurable, err);
      if (err === null && keepFrom !== null) {
        this.#deleteBelow(keepFrom).catch((e: unknown) =>
          this.#logger?.warn({ err: e }, 'WAL: could not remove a segment freed by compaction'),
        );
      }
    });
    return;
  }

  /**
   * Writes the Compact record; `done(err, keepFrom)` runs once it is durable, keepFrom being the
   * first segment still needed (null: nothing was compacted, nothing to delete).
   */
  #compact(index: number, term: number, done: (err: Error | null, keepFrom: number | null) => void): void {
    if (index < this.#index.first) {
      // Nothing to write: done once everything before is durable, like an empty append.
      if (this.#commit.idle) queueMicrotask(() => done(null, null));
      else {
        this.#writer.currentBatch().callbacks.push((err) => done(err, null));
        this.#commit.kick();
      }
      return;
    }
    const { batch, keepFrom } = this.#writer.appendCompact(index, term);
    batch.callbacks.push((err) => done(err, keepFrom));
    this.#commit.kick();
  }

  /** Retires the segments before `keepFrom`, oldest first, one at a time (SegmentFiles.retire). */
  #deleteBelow(keepFrom: number): Promise<void> {
    const segments = this.#writer.segments;
    const run = async () => {
      while (segments.length > 1 && segments[0]!.seq < keepFrom && segments[0] !== this.#writer.tail) {
        const s = segments[0]!;
        if (s.fd !== null) await close(s.fd);
        if (s.readFd !== null) await close(s.readFd);
        s.fd = null;
        s.readFd = null;
        this.#reader.forget(s.seq);
        segments.shift();
        await this.#files.retire(s);
      }
    };
    this.#deleting = this.#deleting.then(run, run);
    return this.#deleting;
  }

  /** Flushes what is pending, waits for it to be durable (or to fail), and releases files. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#files.beginClose();
    await this.#commit.whenIdle();
    await this.#deleting.catch(() => {});
    await this.#files.close();
    for (const s of this.#writer.segments) {
      if (s.fd !== null) await close(s.fd);
      if (s.readFd !== null) await close(s.readFd);
      s.fd = null;
      s.readFd = null;
    }
    await close(this.#dirFd);
    // A lock that cannot be released names this process: the next opener takes it over once this
    // process is gone. Not worth failing close() for.
    await this.#lock
      .release()
      .catch((err: unknown) =>
        this.#logger?.warn({ err, dir: this.#dir }, 'WAL: could not release the lock'),
      );
  }

  // ---- metrics and test hooks -------------------------------------------------------------------

  get metrics(): WalMetrics {
    return metricsOf(this.#counters);
  }

  /** The error that stopped the store, or null. */
  get failure(): WalError | null {
    return this.#commit.failure;
  }

  /**
   * Resolves once the background preallocation of the next segment (if one is running) has
   * finished or failed. For benchmarks and tests that must not time it.
   */
  prepared(): Promise<void> {
    return this.#files.prepared();
  }

  /**
   * TEST ONLY: per segment file, how many bytes are known to be on stable storage. Power-loss
   * emulation cuts or scribbles everything past this (and drops files whose name is not durable).
   */
  syncState(): SegmentSyncState[] {
    return this.#writer.segments.map((s) => ({
      file: s.path,
      syncedBytes: s.syncedBytes,
      writeEnd: s.writeOffset,
      nameDurable: s.nameDurable,
    }));
  }

  /** Reads entry `i` from its record (or from a batch not yet written), verifying its checksum. */
  #readCold(i: number): Entry {
    const seg = this.#writer.segment(this.#index.seg(i));
    return this.#reader.read(i, seg, this.#index.offset(i), this.#commit.inflight, this.#writer.pending);
  }
}

/** Opens (creating or recovering) the WAL in `dir`. */
export function openLog(dir: string, options: WalOptions = {}): Promise<WalLogStore> {
  return WalLogStore.open(dir, options);
}
