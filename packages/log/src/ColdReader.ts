/**
 * Reads entries the cache no longer holds from their records, verifying each checksum on the way
 * out (a failure is KEEL_WAL_CORRUPT, never a wrong entry). A record encoded but not yet written is
 * read from its batch; others through a window of the last chunk read from a segment file.
 */
import fs from 'node:fs';
import type { Entry } from '@keel/core';
import { corrupt } from './errors.js';
import {
  MAX_PAYLOAD,
  newRecordBuffer,
  newRecordView,
  RECORD_HEADER_SIZE,
  type RecordBuffer,
  RecordType,
  readRecord,
  recordSize,
} from './format.js';
import type { Segment } from './Segment.js';
import type { Batch } from './SegmentWriter.js';

/** Bytes read at least per window fill: records next to each other are usually read together. */
const WINDOW = 64 * 1024;

export class ColdReader {
  // The window: the last chunk read from a segment file.
  #read: RecordBuffer = newRecordBuffer(WINDOW);
  #readSeq = -1;
  #readStart = 0;
  #readLen = 0;
  readonly #view = newRecordView();

  /** Drops the window if it holds part of segment `seq` (written over, or its file is going). */
  forget(seq: number): void {
    if (this.#readSeq === seq) this.#readSeq = -1;
  }

  /**
   * Reads entry `i`, whose record is at `off` in `seg`, from the batches not yet written
   * (`inflight`, then `pending`: a later batch wins) or else from the file.
   */
  read(i: number, seg: Segment, off: number, inflight: readonly Batch[], pending: readonly Batch[]): Entry {
    let rb: RecordBuffer | null = null;
    let at = 0;
    let end = 0;
    for (const list of [inflight, pending]) {
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
          this.#readSeq === seg.seq &&
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
      Math.min(this.#read.buf.length, Math.max(need, WINDOW)),
      off,
    );
    this.#readSeq = seg.seq;
    this.#readStart = off;
    this.#readLen = n;
  }
}
