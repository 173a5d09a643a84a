/**
 * The encoding side of the WAL: frames records into per-segment batches for the next group commit
 * (GroupCommit.ts writes them), keeps the index and the entry cache in step with what it encoded,
 * and rolls to a new segment when the tail is full. No I/O here: a rotation only names the next
 * segment and encodes its header; the file is created (SegmentFiles.ts) by the commit that writes it.
 */
import { join } from 'node:path';
import type { Entry, HardState } from '@keel/core';
import type { EntryCache } from './EntryCache.js';
import { WalError, WalErrorCode } from './errors.js';
import {
  COMPACT_KEEP_SUFFIX,
  encodeVote,
  FILE_HEADER_SIZE,
  newRecordBuffer,
  RECORD_HEADER_SIZE,
  type RecordBuffer,
  RecordType,
  recordSize,
  segmentName,
  segmentSalt,
  writeEntryRecord,
  writeFileHeader,
  writeRecord,
  writeU64,
} from './format.js';
import type { LogIndex } from './LogIndex.js';
import type { Segment } from './Segment.js';

export type Callback = (err: Error | null) => void;

/** Records encoded for one segment, written with one write() call by the next group commit. */
export interface Batch {
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

export const END_RECORD_SIZE = recordSize(0);

/** Batch buffers kept for reuse, and the largest one kept. */
const POOL_SIZE = 4;
const POOL_MAX_BYTES = 16 * 1024 * 1024;

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export interface SegmentWriterOptions {
  readonly dir: string;
  readonly segmentSize: number;
  /** Every new segment's salt is segmentSalt(seq, saltKey) (format.ts). */
  readonly saltKey: number;
  readonly index: LogIndex;
  readonly cache: EntryCache;
  readonly hardState: HardState;
  /** Recovered segments, oldest first; the last one is the tail. */
  readonly segments: Segment[];
  readonly nextSeq: number;
}

export class SegmentWriter {
  /** Live segments, oldest first. Shared: compaction removes from the front (WalLogStore). */
  readonly segments: Segment[];
  readonly #dir: string;
  readonly #segmentSize: number;
  readonly #saltKey: number;
  readonly #index: LogIndex;
  readonly #cache: EntryCache;
  #tail: Segment | null;
  #nextSeq: number;
  #hardState: HardState;
  /** Encoded and not yet taken by a group commit, oldest first (one batch per segment). */
  #pending: Batch[] = [];
  #pool: RecordBuffer[] = [];

  constructor(o: SegmentWriterOptions) {
    if (o.segmentSize < FILE_HEADER_SIZE + 4 * RECORD_HEADER_SIZE + 64 || o.segmentSize > 2 ** 31) {
      throw new WalError(WalErrorCode.InvalidArgument, `segmentSize ${o.segmentSize} out of range`);
    }
    this.#dir = o.dir;
    this.#segmentSize = o.segmentSize;
    this.#saltKey = o.saltKey;
    this.#index = o.index;
    this.#cache = o.cache;
    this.#hardState = o.hardState;
    this.segments = o.segments;
    this.#tail = o.segments[o.segments.length - 1] ?? null;
    this.#nextSeq = o.nextSeq;
  }

  get tail(): Segment | null {
    return this.#tail;
  }

  /** The hard state as last encoded (recovered, or the latest one appended). */
  get hardState(): HardState {
    return this.#hardState;
  }

  /** Batches encoded and not yet taken by a commit. */
  get pending(): readonly Batch[] {
    return this.#pending;
  }

  /** Hands every pending batch to a commit (or to a failure) and starts a new list. */
  takePending(): Batch[] {
    const work = this.#pending;
    this.#pending = [];
    return work;
  }

  /** A written batch's buffer, back for reuse. */
  recycle(rb: RecordBuffer): void {
    if (rb.buf.length <= POOL_MAX_BYTES && this.#pool.length < POOL_SIZE) this.#pool.push(rb);
  }

  segment(seq: number): Segment {
    const s = this.segments[seq - this.segments[0]!.seq];
    if (s === undefined || s.seq !== seq)
      throw new WalError(WalErrorCode.InvalidArgument, `no segment ${seq}`);
    return s;
  }

  /**
   * Encodes `entries` (already validated: contiguous, starting within [first, last + 1]; `bytes`
   * their total record size), cutting the log's suffix they replace. Returns the batch of the
   * last record, or null for no entries.
   */
  appendEntries(entries: readonly Entry[], bytes: number): Batch | null {
    const n = entries.length;
    if (n === 0) return null;
    const idx = this.#index;
    const tail = this.#tail;
    if (tail !== null && !tail.sealed && tail.writeOffset + bytes + END_RECORD_SIZE <= this.#segmentSize) {
      // The common case: all of it fits in the tail segment, so no record triggers a rotation
      // (the per-record path below would make the same decisions). One reservation, then a tight
      // encoding loop straight into the batch buffer.
      const batch = this.currentBatch();
      const first = entries[0]!.index;
      if (first <= idx.last) {
        idx.truncateFrom(first);
        this.#cache.truncateFrom(first);
      }
      this.#encodeRun(batch, entries, bytes);
      return batch;
    }
    let batch: Batch | null = null;
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
    return batch;
  }

  /** Encodes `hardState` if it differs from the last one; returns its batch, or null. */
  appendHardState(hardState: HardState): Batch | null {
    if (sameHardState(hardState, this.#hardState)) return null;
    const room = this.#room(recordSize(encodeVote(hardState.vote)?.byteLength ?? 0));
    this.#hardState = hardState;
    return this.#writeHardState(room);
  }

  /**
   * Drops the log up to `index` (`term` at `index`; a log without it is emptied) and encodes the
   * Compact record. Returns its batch and the first segment still needed to replay the log.
   */
  appendCompact(index: number, term: number): { readonly batch: Batch; readonly keepFrom: number } {
    const idx = this.#index;
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
    return { batch, keepFrom };
  }

  /** The batch records go into next (created for the tail, or by a rotation if there is none). */
  currentBatch(): Batch {
    const tail = this.#tail;
    const last = this.#pending[this.#pending.length - 1];
    if (last !== undefined && last.seg === tail) return last;
    if (tail === null) return this.#room(0);
    return this.#newBatch(tail, false);
  }

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
    return this.currentBatch();
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
    this.#pending.push(b);
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
      const b = this.currentBatch();
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
      dsync: false,
      readFd: null,
      writeOffset: 0,
      entriesStart: 0,
      writtenBytes: 0,
      syncedBytes: 0,
      nameDurable: false,
      sealed: false,
    };
    this.segments.push(seg);
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
}
