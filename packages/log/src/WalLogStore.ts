import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import { join } from 'node:path';
import { type Entry, type HardState, type LogStore, takeWithinBytes } from '@keel/core';
import { DirLock } from './DirLock.js';
import { EntryCache } from './EntryCache.js';
import { corrupt, WalError, WalErrorCode } from './errors.js';
import {
  COMPACT_KEEP_SUFFIX,
  encodeVote,
  FILE_HEADER_SIZE,
  MAX_PAYLOAD,
  newRecordBuffer,
  newRecordView,
  RECORD_HEADER_SIZE,
  type RecordBuffer,
  RecordType,
  readRecord,
  recordSize,
  segmentName,
  segmentSalt,
  writeEntryRecord,
  writeFileHeader,
  writeRecord,
  writeU64,
} from './format.js';
import type { LogIndex } from './LogIndex.js';
import { PREPARED_SUFFIX, recover } from './recovery.js';
import type { SegmentSyncState, WalLogger, WalMetrics, WalOptions } from './types.js';

const DEFAULT_SEGMENT_SIZE = 64 * 1024 * 1024;
const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
const END_RECORD_SIZE = recordSize(0);
const ZEROS = Buffer.alloc(1024 * 1024);

type Callback = (err: Error | null) => void;

/** A file ready to become the next segment: zero-filled, or recycled from a compacted segment. */
interface Prepared {
  readonly path: string;
  readonly fd: number;
  readonly size: number;
}

/** Recycled files kept waiting for a rotation; more are deleted. */
const MAX_SPARES = 2;

const RESOLVED = Promise.resolve();

interface Segment {
  readonly seq: number;
  readonly firstIndex: number;
  readonly path: string;
  /** The salt its records carry (format.ts). */
  readonly salt: number;
  /** Bytes of the file known to be allocated (preallocated, recycled or recovered length). */
  allocated: number;
  /** Read-write descriptor of the tail (and of segments written by this process), or null. */
  fd: number | null;
  /** Read-only descriptor opened lazily for cold reads of older segments. */
  readFd: number | null;
  /** End of everything encoded for this segment, written or still pending. */
  writeOffset: number;
  /** Offset after the segment's base records: a segment with nothing beyond it is never rotated. */
  entriesStart: number;
  /** End of what write() has put in the file. */
  writtenBytes: number;
  syncedBytes: number;
  nameDurable: boolean;
  sealed: boolean;
}

/** Records encoded for one segment, written with one write() call by the next group commit. */
interface Batch {
  readonly seg: Segment;
  /** The segment's file must be created (renamed from the prepared file) before this write. */
  readonly create: boolean;
  readonly fileOffset: number;
  /** The encoded records: rb.buf[0, len). */
  rb: RecordBuffer;
  len: number;
  readonly callbacks: Callback[];
  entries: number;
  appends: number;
}

// Node's callback API on raw descriptors: the cheapest path to write(2)/fdatasync(2) off the loop.
const write = (fd: number, buf: Buffer, off: number, len: number, pos: number) =>
  new Promise<number>((res, rej) => fs.write(fd, buf, off, len, pos, (e, n) => (e ? rej(e) : res(n))));
const fdatasync = (fd: number) =>
  new Promise<void>((res, rej) => fs.fdatasync(fd, (e) => (e ? rej(e) : res())));
const fsync = (fd: number) => new Promise<void>((res, rej) => fs.fsync(fd, (e) => (e ? rej(e) : res())));
const open = (path: string, flags: string) =>
  new Promise<number>((res, rej) => fs.open(path, flags, (e, fd) => (e ? rej(e) : res(fd))));
const close = (fd: number) => new Promise<void>((res) => fs.close(fd, () => res()));
const fstatSize = (fd: number) =>
  new Promise<number>((res, rej) => fs.fstat(fd, (e, st) => (e ? rej(e) : res(st.size))));
const rename = (a: string, b: string) =>
  new Promise<void>((res, rej) => fs.rename(a, b, (e) => (e ? rej(e) : res())));
const unlink = (p: string) => new Promise<void>((res, rej) => fs.unlink(p, (e) => (e ? rej(e) : res())));

async function writeAll(fd: number, buf: Buffer, len: number, pos: number): Promise<void> {
  let done = 0;
  while (done < len) {
    const n = await write(fd, buf, done, len - done, pos + done);
    if (n <= 0) throw new Error(`write returned ${n}`);
    done += n;
  }
}

function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/**
 * The durable LogStore: segmented, preallocated, checksummed files with group commit. See the
 * package README for the format, the durability contract and the recovery rules.
 */
export class WalLogStore implements LogStore {
  readonly #dir: string;
  readonly #dirFd: number;
  readonly #lock: DirLock;
  readonly #segmentSize: number;
  readonly #preallocate: boolean;
  readonly #logger: WalLogger | undefined;
  readonly #index: LogIndex;
  readonly #cache: EntryCache;
  readonly #segments: Segment[];
  #tail: Segment | null;
  #nextSeq: number;
  #hardState: HardState;

  readonly #startFlush = () => void this.#flushLoop();
  #batches: Batch[] = [];
  #inflight: Batch[] = [];
  #flushing = false;
  #idleWaiters: Array<() => void> = [];
  #pool: RecordBuffer[] = [];
  #prepared: Promise<Prepared> | null = null;
  #prepCounter = 0;
  /** Files of segments freed by compaction, renamed to `*.prep`, waiting to become a new segment. */
  #spares: string[] = [];
  /** Every new segment's salt is segmentSalt(seq, this key) (format.ts). */
  readonly #saltKey: number;
  #recycled = 0;
  #zeroFilled = 0;
  #deleting: Promise<void> = Promise.resolve();
  #failure: WalError | null = null;
  #closed = false;

  #fsyncs = 0;
  #dirSyncs = 0;
  #commits = 0;
  #bytesWritten = 0;
  #entriesDurable = 0;
  #appendsDurable = 0;

  // Cold-read window: the last chunk read from a segment file.
  #read: RecordBuffer = newRecordBuffer(64 * 1024);
  #readSeq = -1;
  #readStart = 0;
  #readLen = 0;
  readonly #view = newRecordView();

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
        tail.fd = tailFd = await open(tail.path, 'r+');
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
      const key = rec.saltKey ?? randomInt(0, 2 ** 32 - 1);
      return new WalLogStore(
        dir,
        dirFd,
        lock,
        options,
        rec.index,
        rec.hardState,
        segments,
        tail,
        rec.nextSeq,
        key,
      );
    } catch (err) {
      if (tailFd !== null) await close(tailFd);
      if (dirFd !== null) await close(dirFd);
      await lock.release().catch(() => {});
      throw err;
    }
  }

  private constructor(
    dir: string,
    dirFd: number,
    lock: DirLock,
    options: WalOptions,
    index: LogIndex,
    hardState: HardState,
    segments: Segment[],
    tail: Segment | null,
    nextSeq: number,
    saltKey: number,
  ) {
    this.#saltKey = saltKey;
    this.#lock = lock;
    this.#dir = dir;
    this.#dirFd = dirFd;
    this.#segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    this.#preallocate = options.preallocate ?? true;
    this.#logger = options.logger;
    this.#index = index;
    this.#cache = new EntryCache(options.cacheBytes ?? DEFAULT_CACHE_BYTES);
    this.#cache.clear(index.last + 1);
    this.#segments = segments;
    this.#tail = tail;
    this.#nextSeq = nextSeq;
    this.#hardState = hardState;
    if (this.#segmentSize < FILE_HEADER_SIZE + 4 * RECORD_HEADER_SIZE + 64 || this.#segmentSize > 2 ** 31) {
      throw new WalError(WalErrorCode.InvalidArgument, `segmentSize ${this.#segmentSize} out of range`);
    }
    this.#startPrepare();
  }

  // ---- LogStorage -------------------------------------------------------------------------------

  initialState(): { readonly hardState: HardState } {
    return { hardState: this.#hardState };
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
    const failure = this.#failure;
    if (failure !== null) {
      queueMicrotask(() => onDurable(failure));
      return;
    }
    const idx = this.#index;
    let n = entries.length;
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
    let batch: Batch | null = null;
    const tail = this.#tail;
    if (
      n > 0 &&
      tail !== null &&
      !tail.sealed &&
      tail.writeOffset + bytes + END_RECORD_SIZE <= this.#segmentSize
    ) {
      // The common case: all of it fits in the tail segment, so no record triggers a rotation
      // (the per-record path below would make the same decisions). One reservation, then a tight
      // encoding loop straight into the batch buffer.
      batch = this.#currentBatch();
      const first = entries[0]!.index;
      if (first <= idx.last) {
        idx.truncateFrom(first);
        this.#cache.truncateFrom(first);
      }
      this.#encodeRun(batch, entries, bytes);
      n = 0;
    }
    for (let i = 0; i < n; i++) {
      const e = entries[i]!;
      const size = recordSize(e.data.byteLength);
      // Room first: a rotation records the log as the records before this one left it, which is
      // what replay will have seen when it reaches the new segment's base record.
      batch = this.#room(size);
      if (i === 0 && e.index <= idx.last) {
        idx.truncateFrom(e.index);
        this.#cache.truncateFrom(e.index);
      }
      const seg = batch.seg;
      const off = seg.writeOffset;
      const at = this.#reserve(batch, size);
      writeEntryRecord(batch.rb, at, seg.salt, e.type, e.index, e.term, e.data);
      idx.push(e.term, seg.seq, off);
      this.#cache.push(e);
      batch.entries++;
    }
    if (hardState !== null && !sameHardState(hardState, this.#hardState)) {
      const room = this.#room(recordSize(encodeVote(hardState.vote)?.byteLength ?? 0));
      this.#hardState = hardState;
      batch = this.#writeHardState(room);
    }
    if (batch === null) {
      if (this.#batches.length === 0 && !this.#flushing) {
        // Nothing to write and nothing in flight: everything before is already durable.
        queueMicrotask(() => this.#callback(onDurable, null));
        return;
      }
      batch = this.#currentBatch();
    }
    batch.appends++;
    batch.callbacks.push(onDurable);
    this.#kick();
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
      if (this.#failure !== null) return Promise.reject(this.#failure);
      return new Promise<void>((resolve, reject) =>
        this.#compact(index, term, (err, keepFrom) => {
          if (err) reject(err);
          else if (keepFrom === null) resolve();
          else this.#deleteBelow(keepFrom).then(resolve, reject);
        }),
      );
    }
    if (this.#closed) throw new WalError(WalErrorCode.Closed, 'compact on a closed WAL');
    const failure = this.#failure;
    if (failure !== null) {
      queueMicrotask(() => onDurable(failure));
      return;
    }
    this.#compact(index, term, (err, keepFrom) => {
      this.#callback(onDurable, err);
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
    const idx = this.#index;
    if (index < idx.first) {
      // Nothing to write: done once everything before is durable, like an empty append.
      if (this.#batches.length === 0 && !this.#flushing) queueMicrotask(() => done(null, null));
      else {
        this.#currentBatch().callbacks.push((err) => done(err, null));
        this.#kick();
      }
      return;
    }
    const batch = this.#room(END_RECORD_SIZE);
    const kept = idx.compact(index, term);
    if (idx.length === 0) this.#cache.clear(idx.first);
    else this.#cache.dropBefore(idx.first);
    const flags = kept ? COMPACT_KEEP_SUFFIX : 0;
    const at = this.#reserve(batch, END_RECORD_SIZE);
    writeRecord(batch.rb.buf, at, batch.seg.salt, RecordType.Compact, flags, index, term, null);
    // Segments older than the one holding the first live entry are not needed to replay the log
    // as it stands right after this record. Computed now: later appends cannot change that.
    const keepFrom = idx.length > 0 ? idx.seg(idx.first) : batch.seg.seq;
    batch.callbacks.push((err) => done(err, keepFrom));
    this.#kick();
  }

  /** Flushes what is pending, waits for it to be durable (or to fail), and releases files. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#whenIdle();
    await this.#deleting.catch(() => {});
    const prep = this.#prepared;
    this.#prepared = null;
    if (prep) {
      const p = await prep.catch(() => null);
      if (p) {
        await close(p.fd);
        await unlink(p.path).catch(() => {});
      }
    }
    for (const s of this.#segments) {
      if (s.fd !== null) await close(s.fd);
      if (s.readFd !== null) await close(s.readFd);
      s.fd = null;
      s.readFd = null;
    }
    for (const spare of this.#spares.splice(0)) await unlink(spare).catch(() => {});
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
    return {
      fsyncs: this.#fsyncs,
      dirSyncs: this.#dirSyncs,
      commits: this.#commits,
      bytesWritten: this.#bytesWritten,
      entriesDurable: this.#entriesDurable,
      appendsDurable: this.#appendsDurable,
      entriesPerFsync: this.#fsyncs === 0 ? 0 : this.#entriesDurable / this.#fsyncs,
      segmentsRecycled: this.#recycled,
      segmentsZeroFilled: this.#zeroFilled,
    };
  }

  /** The error that stopped the store, or null. */
  get failure(): WalError | null {
    return this.#failure;
  }

  /**
   * Resolves once the background preallocation of the next segment (if one is running) has
   * finished or failed. For benchmarks and tests that must not time it.
   */
  prepared(): Promise<void> {
    const p = this.#prepared;
    return p === null
      ? Promise.resolve()
      : p.then(
          () => {},
          () => {},
        );
  }

  /**
   * TEST ONLY: per segment file, how many bytes are known to be on stable storage. Power-loss
   * emulation cuts or scribbles everything past this (and drops files whose name is not durable).
   */
  syncState(): SegmentSyncState[] {
    return this.#segments.map((s) => ({
      file: s.path,
      syncedBytes: s.syncedBytes,
      writeEnd: s.writeOffset,
      nameDurable: s.nameDurable,
    }));
  }

  // ---- encoding ---------------------------------------------------------------------------------

  /** The batch the next record of `size` bytes goes into, rotating to a new segment if needed. */
  #room(size: number): Batch {
    const seg = this.#tail;
    if (
      seg === null ||
      seg.sealed ||
      (seg.writeOffset + size + END_RECORD_SIZE > this.#segmentSize && seg.writeOffset > seg.entriesStart)
    ) {
      this.#rotate();
    }
    return this.#currentBatch();
  }

  #currentBatch(): Batch {
    const tail = this.#tail;
    const last = this.#batches[this.#batches.length - 1];
    if (last !== undefined && last.seg === tail) return last;
    if (tail === null) return this.#room(0);
    const b = this.#newBatch(tail, false);
    return b;
  }

  #newBatch(seg: Segment, create: boolean): Batch {
    const b: Batch = {
      seg,
      create,
      fileOffset: seg.writeOffset,
      rb: this.#pool.pop() ?? newRecordBuffer(1024 * 1024),
      len: 0,
      callbacks: [],
      entries: 0,
      appends: 0,
    };
    this.#batches.push(b);
    return b;
  }

  /**
   * Reserves `size` bytes at the end of `b` (growing it) and of its segment; returns the buffer
   * offset. It may replace `b.rb`: read `b.rb` only after calling this.
   */
  #reserve(b: Batch, size: number): number {
    const at = b.len;
    if (at + size > b.rb.buf.length) {
      let cap = b.rb.buf.length * 2;
      while (cap < at + size) cap *= 2;
      const grown = newRecordBuffer(cap);
      b.rb.buf.copy(grown.buf, 0, 0, at);
      b.rb = grown;
    }
    b.len += size;
    b.seg.writeOffset += size;
    return at;
  }

  /** Encodes `entries` (recordSize total `bytes`) at the end of `b`, which has room in its segment. */
  #encodeRun(b: Batch, entries: readonly Entry[], bytes: number): void {
    const fileOffset = b.fileOffset;
    let at = this.#reserve(b, bytes);
    const rb = b.rb;
    const idx = this.#index;
    const cache = this.#cache;
    const segSeq = b.seg.seq;
    const salt = b.seg.salt;
    const n = entries.length;
    idx.reserve(n);
    for (let i = 0; i < n; i++) {
      const e = entries[i]!;
      const off = at;
      at = writeEntryRecord(rb, at, salt, e.type, e.index, e.term, e.data);
      idx.push(e.term, segSeq, fileOffset + off);
      cache.push(e);
    }
    b.entries += n;
  }

  #writeHardState(b: Batch): Batch {
    const hs = this.#hardState;
    const vote = encodeVote(hs.vote);
    const size = recordSize(vote?.byteLength ?? 0);
    const at = this.#reserve(b, size);
    writeRecord(b.rb.buf, at, b.seg.salt, RecordType.HardState, 0, hs.commit, hs.term, vote);
    return b;
  }

  /**
   * Seals the tail with an end record and starts the next segment: header, base record (the log's
   * bounds now) and the current hard state, so the new segment replays without its predecessors.
   */
  #rotate(): void {
    const old = this.#tail;
    const idx = this.#index;
    if (old !== null && !old.sealed) {
      const b = this.#currentBatch();
      const at = this.#reserve(b, END_RECORD_SIZE);
      writeRecord(b.rb.buf, at, old.salt, RecordType.SegmentEnd, 0, idx.last, 0, null);
      old.sealed = true;
    }
    const seq = this.#nextSeq++;
    const firstIndex = idx.last + 1;
    const salt = segmentSalt(seq, this.#saltKey);
    const seg: Segment = {
      seq,
      firstIndex,
      path: join(this.#dir, segmentName(seq, firstIndex)),
      salt,
      allocated: 0,
      fd: null,
      readFd: null,
      writeOffset: 0,
      entriesStart: 0,
      writtenBytes: 0,
      syncedBytes: 0,
      nameDurable: false,
      sealed: false,
    };
    this.#segments.push(seg);
    this.#tail = seg;
    const b = this.#newBatch(seg, true);
    const hAt = this.#reserve(b, FILE_HEADER_SIZE);
    writeFileHeader(b.rb.buf, hAt, { seq, firstIndex, salt });
    const base = Buffer.allocUnsafe(16);
    writeU64(base, 0, idx.first);
    writeU64(base, 8, idx.firstTerm);
    const bAt = this.#reserve(b, recordSize(16));
    writeRecord(b.rb.buf, bAt, salt, RecordType.SegmentBase, 0, idx.last, idx.term(idx.last), base);
    this.#writeHardState(b);
    seg.entriesStart = seg.writeOffset;
  }

  // ---- group commit -----------------------------------------------------------------------------

  #kick(): void {
    if (this.#flushing || this.#batches.length === 0 || this.#failure !== null) return;
    this.#flushing = true;
    // A microtask, not setImmediate: the first append of an idle log goes out at once; everything
    // appended while its write+fdatasync runs is coalesced into the next one. (A promise reaction
    // rather than queueMicrotask, which wraps every task in an AsyncResource: ~1 µs per commit.)
    RESOLVED.then(this.#startFlush);
  }

  async #flushLoop(): Promise<void> {
    while (this.#batches.length > 0 && this.#failure === null) {
      const work = this.#batches;
      this.#batches = [];
      this.#inflight = work;
      let phase: 'write' | 'sync' = 'write';
      try {
        let dirty: Segment | null = null;
        let created = false;
        for (const b of work) {
          if (b.create) {
            // A newer segment may exist only once the older one is complete on disk.
            if (dirty !== null) {
              phase = 'sync';
              await fdatasync(dirty.fd!);
              this.#fsyncs++;
              dirty.syncedBytes = dirty.writtenBytes;
              dirty = null;
            }
            phase = 'write';
            await this.#materialize(b.seg);
            created = true;
          }
          phase = 'write';
          await writeAll(b.seg.fd!, b.rb.buf, b.len, b.fileOffset);
          this.#bytesWritten += b.len;
          b.seg.writtenBytes = Math.max(b.seg.writtenBytes, b.fileOffset + b.len);
          // The cold-read window may hold what this range looked like before the write.
          if (this.#readSeq === b.seg.seq) this.#readSeq = -1;
          dirty = b.seg;
        }
        phase = 'sync';
        if (dirty !== null) {
          await fdatasync(dirty.fd!);
          this.#fsyncs++;
          dirty.syncedBytes = dirty.writtenBytes;
        }
        if (created) {
          await fsync(this.#dirFd);
          this.#dirSyncs++;
        }
      } catch (err) {
        this.#inflight = [];
        this.#fail(err, phase, work);
        break;
      }
      this.#inflight = [];
      this.#commits++;
      for (const b of work) {
        if (b.create) b.seg.nameDurable = true;
        this.#entriesDurable += b.entries;
        this.#appendsDurable += b.appends;
      }
      for (const b of work) {
        for (const cb of b.callbacks) this.#callback(cb, null);
        if (b.rb.buf.length <= 16 * 1024 * 1024 && this.#pool.length < 4) this.#pool.push(b.rb);
      }
    }
    this.#flushing = false;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #callback(cb: Callback, err: Error | null): void {
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

  #whenIdle(): Promise<void> {
    if (!this.#flushing && (this.#batches.length === 0 || this.#failure !== null)) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * A failed write or fsync is fatal: after a failed fdatasync the kernel may have dropped the dirty
   * pages, so a retry could "succeed" without the data. Every pending and later append gets the error.
   */
  #fail(err: unknown, phase: 'write' | 'sync', work: Batch[]): void {
    const code = isDiskFull(err)
      ? WalErrorCode.DiskFull
      : phase === 'sync'
        ? WalErrorCode.FsyncFailed
        : WalErrorCode.WriteFailed;
    const what =
      code === WalErrorCode.DiskFull
        ? 'the disk is full'
        : phase === 'sync'
          ? 'fdatasync failed'
          : 'a write to the WAL failed';
    const failure = new WalError(
      code,
      `WAL stopped: ${what} (${(err as Error)?.message ?? String(err)}); entries acknowledged before stay durable, nothing more is accepted`,
      { cause: err },
    );
    this.#failure = failure;
    this.#logger?.error({ err, code, dir: this.#dir }, 'WAL: stopped by an I/O failure');
    const pending = [...work, ...this.#batches];
    this.#batches = [];
    for (const b of pending) for (const cb of b.callbacks) this.#callback(cb, failure);
  }

  // ---- segment files ----------------------------------------------------------------------------

  /**
   * Gets the next segment's file ready in the background so a rotation never waits: a file freed by
   * compaction when there is one (recycling: its old records carry another salt and never validate
   * here, and its blocks are already allocated), else a new file zero-filled and fsynced. A fill
   * in progress gives way as soon as compaction frees a file: the fill doubles the bytes the disk
   * takes and its flush competes with the commits' fdatasyncs.
   */
  #startPrepare(): void {
    if (!this.#preallocate || this.#closed || this.#prepared !== null) return;
    const p = this.#prepare();
    p.catch(() => {});
    this.#prepared = p;
  }

  async #prepare(): Promise<Prepared> {
    const spare = this.#spares.shift();
    if (spare !== undefined) {
      const fd = await open(spare, 'r+');
      try {
        const size = await fstatSize(fd);
        this.#recycled++;
        return { path: spare, fd, size };
      } catch (err) {
        await close(fd);
        throw err;
      }
    }
    const path = join(this.#dir, `next-${process.pid}-${this.#prepCounter++}${PREPARED_SUFFIX}`);
    const size = this.#segmentSize;
    const fd = await open(path, 'w+');
    let abandoned = false;
    try {
      for (let off = 0; off < size; off += ZEROS.length) {
        if (this.#spares.length > 0 && !this.#closed) {
          abandoned = true;
          break;
        }
        await writeAll(fd, ZEROS, Math.min(ZEROS.length, size - off), off);
      }
      if (!abandoned) {
        await fsync(fd);
        this.#zeroFilled++;
        return { path, fd, size };
      }
    } catch (err) {
      await close(fd);
      await unlink(path).catch(() => {});
      this.#logger?.warn({ err, file: path }, 'WAL: could not preallocate the next segment');
      throw err;
    }
    await close(fd);
    await unlink(path).catch(() => {});
    return this.#prepare();
  }

  async #materialize(seg: Segment): Promise<void> {
    const prep = this.#prepared;
    this.#prepared = null;
    const ready = prep ? await prep.catch(() => null) : null;
    if (ready !== null) {
      await rename(ready.path, seg.path);
      seg.fd = ready.fd;
      seg.allocated = ready.size;
    } else {
      seg.fd = await open(seg.path, 'wx+');
    }
    this.#startPrepare();
  }

  #deleteBelow(keepFrom: number): Promise<void> {
    const run = async () => {
      while (
        this.#segments.length > 1 &&
        this.#segments[0]!.seq < keepFrom &&
        this.#segments[0] !== this.#tail
      ) {
        const s = this.#segments[0]!;
        if (s.fd !== null) await close(s.fd);
        if (s.readFd !== null) await close(s.readFd);
        s.fd = null;
        s.readFd = null;
        if (this.#readSeq === s.seq) this.#readSeq = -1;
        this.#segments.shift();
        // Recycle the file (its blocks are allocated: no zero-fill for the next segment) or delete
        // it. Either way its name goes, one segment at a time, each made durable: a gap in sequence
        // numbers after a power loss would look like a lost segment.
        const recycle =
          this.#preallocate &&
          !this.#closed &&
          this.#spares.length < MAX_SPARES &&
          Math.max(s.allocated, s.writtenBytes) >= this.#segmentSize;
        const spare = join(this.#dir, `recycled-${process.pid}-${this.#prepCounter++}${PREPARED_SUFFIX}`);
        if (recycle) await rename(s.path, spare);
        else await unlink(s.path);
        await fsync(this.#dirFd);
        this.#dirSyncs++;
        if (recycle) this.#spares.push(spare);
        this.#logger?.info(
          { file: s.path, recycled: recycle },
          recycle
            ? 'WAL: recycled a segment covered by a snapshot'
            : 'WAL: deleted a segment covered by a snapshot',
        );
      }
    };
    this.#deleting = this.#deleting.then(run, run);
    return this.#deleting;
  }

  // ---- cold reads -------------------------------------------------------------------------------

  #segment(seq: number): Segment {
    const s = this.#segments[seq - this.#segments[0]!.seq];
    if (s === undefined || s.seq !== seq)
      throw new WalError(WalErrorCode.InvalidArgument, `no segment ${seq}`);
    return s;
  }

  /** Reads entry `i` from its record (or from a batch not yet written), verifying its checksum. */
  #readCold(i: number): Entry {
    const seq = this.#index.seg(i);
    const off = this.#index.offset(i);
    const seg = this.#segment(seq);
    let rb: RecordBuffer | null = null;
    let at = 0;
    let end = 0;
    for (const list of [this.#inflight, this.#batches]) {
      for (const b of list) {
        if (b.seg === seg && off >= b.fileOffset && off < b.fileOffset + b.len) {
          rb = b.rb;
          at = off - b.fileOffset;
          end = b.len;
        }
      }
    }
    if (rb === null) {
      if (
        !(
          this.#readSeq === seq &&
          off >= this.#readStart &&
          off + RECORD_HEADER_SIZE <= this.#readStart + this.#readLen
        )
      ) {
        this.#fill(seg, off, RECORD_HEADER_SIZE);
      }
      const length =
        this.#readLen - (off - this.#readStart) >= 4 ? this.#read.buf.readUInt32LE(off - this.#readStart) : 0;
      if (length > MAX_PAYLOAD) throw corrupt(seg.path, off, `entry ${i} has an implausible length on read`);
      const need = recordSize(length);
      if (off + need > this.#readStart + this.#readLen) this.#fill(seg, off, need);
      rb = this.#read;
      at = off - this.#readStart;
      end = this.#readLen;
    }
    const v = this.#view;
    const buf = rb.buf;
    const fault = readRecord(buf, at, end, seg.salt, v, rb.words);
    if (fault !== null || v.type !== RecordType.Entry || v.index !== i) {
      throw corrupt(seg.path, off, `entry ${i} failed verification on read (${fault ?? 'wrong record'})`);
    }
    return {
      index: i,
      term: v.term,
      type: v.entryType as Entry['type'],
      data: Uint8Array.prototype.slice.call(buf, v.payloadStart, v.payloadStart + v.payloadLength),
    };
  }

  #fill(seg: Segment, off: number, need: number): void {
    if (seg.fd === null && seg.readFd === null) seg.readFd = fs.openSync(seg.path, 'r');
    const fd = (seg.fd ?? seg.readFd)!;
    if (need > this.#read.buf.length) this.#read = newRecordBuffer(Math.max(need, this.#read.buf.length * 2));
    const n = fs.readSync(
      fd,
      this.#read.buf,
      0,
      Math.min(this.#read.buf.length, Math.max(need, 64 * 1024)),
      off,
    );
    this.#readSeq = seg.seq;
    this.#readStart = off;
    this.#readLen = n;
  }
}

/** Opens (creating or recovering) the WAL in `dir`. */
export function openLog(dir: string, options: WalOptions = {}): Promise<WalLogStore> {
  return WalLogStore.open(dir, options);
}
