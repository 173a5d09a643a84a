/**
 * Opening a WAL directory: replay every segment in sequence order, rebuild the index, and decide
 * whether damage is a torn tail (cut it) or corruption (refuse). The rules:
 * - A bad record in the LAST segment with no valid record anywhere after it is a torn tail: the
 *   write that produced it was never acknowledged (its fdatasync had not returned), so it is cut
 *   (zeroed) and logged.
 * - A bad record followed by any valid record, a bad record in an older segment, a missing segment,
 *   or a replay that leaves an entry unaccounted for is corruption: open refuses with
 *   KEEL_WAL_CORRUPT naming the file and offset.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { HardState } from '@keel/core';
import { corrupt, WalError, WalErrorCode } from './errors.js';
import {
  COMPACT_KEEP_SUFFIX,
  decodeVote,
  FILE_HEADER_SIZE,
  FORMAT_VERSION,
  MAX_PAYLOAD,
  newRecordView,
  OLDEST_READABLE_VERSION,
  parseSegmentName,
  type RecordFault,
  RecordType,
  type RecordView,
  readFileHeader,
  readRecord,
  readU64,
  saltKey,
  segmentSalt,
  wordsOf,
} from './format.js';
import { LogIndex } from './LogIndex.js';
import type { WalLogger } from './types.js';

export const PREPARED_SUFFIX = '.prep';

export interface RecoveredSegment {
  readonly seq: number;
  readonly firstIndex: number;
  readonly name: string;
  readonly path: string;
  /** File size on disk (preallocated length, or more). */
  readonly size: number;
  /** The salt its records carry (0 for a version-1 segment). */
  readonly salt: number;
}

export interface Recovered {
  readonly segments: RecoveredSegment[];
  readonly index: LogIndex;
  readonly hardState: HardState;
  /** Where the next record goes in the last segment; null when there is no segment. */
  readonly writeOffset: number;
  /** The last segment ends with a SegmentEnd record: the next append opens a new segment. */
  readonly sealed: boolean;
  /** Sequence number for the next segment. */
  readonly nextSeq: number;
  /** The directory's salt key (see segmentSalt), from the newest segment; null when there is none. */
  readonly saltKey: number | null;
}

const EMPTY_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

/**
 * The first 8-aligned offset in [from, end) holding a valid record of this segment (salt `salt`;
 * null: whatever salt the record carries, for a segment whose salt is unknown), or -1. Records
 * of a recycled file's previous life carry another salt and do not count.
 */
function validRecordAfter(
  buf: Buffer,
  from: number,
  end: number,
  salt: number | null,
  view: RecordView,
  words: Int32Array | null,
): number {
  for (let p = (from + 7) & ~7; p + 32 <= end; p += 8) {
    const t = buf[p + 8]!;
    if (t === 0 || t > RecordType.SegmentEnd) continue;
    if (buf.readUInt32LE(p) > MAX_PAYLOAD) continue;
    const s = salt ?? buf.readUInt32LE(p + 12);
    if (buf.readUInt32LE(p + 12) !== s) continue;
    if (readRecord(buf, p, end, s, view, words) === null) return p;
  }
  return -1;
}

/**
 * Where bytes written by this incarnation of the segment may end, scanning [from, end): just past
 * the last 8-aligned record header carrying `salt` (and a plausible type), or `from`. A torn
 * tail is zeroed up to here, so no record of the cut write can validate later behind new records;
 * what lies beyond (zeros, or a recycled file's older records, whose salt differs) can never
 * validate as a record of this segment and is left alone: zeroing a recycled 64 MiB file on every
 * cut would cost more than the whole recovery.
 */
function tornEnd(buf: Buffer, from: number, end: number, salt: number, words: Int32Array | null): number {
  let last = from;
  const start = (from + 7) & ~7;
  if (words !== null && (start & 3) === 0) {
    const s = salt | 0;
    for (let w = (start >> 2) + 3; (w << 2) + 20 <= end; w += 2) {
      if (words[w] !== s) continue;
      const p = (w - 3) << 2;
      const t = buf[p + 8]!;
      if (t === 0 || t > RecordType.SegmentEnd) continue;
      last = Math.min(end, p + 32 + Math.min(MAX_PAYLOAD, (buf.readUInt32LE(p) + 7) & ~7));
    }
    return Math.max(last, from);
  }
  for (let p = start; p + 32 <= end; p += 8) {
    if (buf.readUInt32LE(p + 12) !== salt >>> 0) continue;
    const t = buf[p + 8]!;
    if (t === 0 || t > RecordType.SegmentEnd) continue;
    last = Math.min(end, p + 32 + Math.min(MAX_PAYLOAD, (buf.readUInt32LE(p) + 7) & ~7));
  }
  return Math.max(last, from);
}

function describeFault(f: Exclude<RecordFault, null>): string {
  switch (f) {
    case 'short':
      return 'truncated record';
    case 'zero':
      return 'zeroed record';
    case 'length':
      return 'implausible record length';
    case 'type':
      return 'invalid record type';
    case 'checksum':
      return 'record checksum mismatch';
    case 'stale':
      return 'record of another segment (wrong salt)';
  }
}

export async function recover(dir: string, logger: WalLogger | undefined): Promise<Recovered> {
  await fsp.mkdir(dir, { recursive: true });
  const names = await fsp.readdir(dir);
  const found: Array<{ seq: number; firstIndex: number; name: string }> = [];
  for (const name of names) {
    if (name.endsWith(PREPARED_SUFFIX)) {
      // A segment being preallocated when the process stopped: never held a record.
      await fsp.rm(join(dir, name), { force: true });
      continue;
    }
    const parsed = parseSegmentName(name);
    if (parsed) found.push({ ...parsed, name });
  }
  found.sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < found.length; i++) {
    if (found[i]!.seq !== found[i - 1]!.seq + 1) {
      throw corrupt(
        join(dir, found[i]!.name),
        0,
        `segment ${found[i - 1]!.seq + 1} is missing before this one`,
      );
    }
  }

  const index = new LogIndex();
  let hardState = EMPTY_HARD_STATE;
  const segments: RecoveredSegment[] = [];
  let writeOffset = 0;
  let sealed = false;
  const view = newRecordView();
  let replayed = 0;
  /** The salt key of the segments replayed so far (each newer segment's salt derives from it). */
  let key: number | null = null;

  for (let s = 0; s < found.length; s++) {
    const f = found[s]!;
    const path = join(dir, f.name);
    const isLast = s === found.length - 1;
    const buf = await fsp.readFile(path);
    const words = wordsOf(buf);
    const read = readFileHeader(buf);
    const { version } = read;
    let { fault: hFault, header } = read;
    if (hFault === 'version') {
      throw new WalError(
        WalErrorCode.UnsupportedVersion,
        `WAL segment ${path} has format version ${version}; this build reads versions ${OLDEST_READABLE_VERSION} to ${FORMAT_VERSION}`,
        { file: path, offset: 8 },
      );
    }
    // A valid header of an OLDER segment under a newer name: a recycled file whose new header
    // never became durable.
    let recycled = false;
    if (header !== null && header.seq < f.seq && segments.length > 0) {
      recycled = true;
      header = null;
    }
    if (hFault !== null || header === null) {
      // A segment created by a rotation whose first fdatasync never finished: nothing in it was
      // acknowledged, provided nothing valid follows the bad header.
      // (The only segment may be removed only if it is the very first one: a later lone segment
      // carries state that older, deleted segments no longer hold.)
      const removable = isLast && (segments.length > 0 || f.seq === 1);
      // Its salt follows from the key of the segment before it; a first segment is never a
      // recycled file, so whatever salt a record in it carries is its own.
      const expected = key === null ? null : segmentSalt(f.seq, key);
      if (removable && validRecordAfter(buf, FILE_HEADER_SIZE, buf.length, expected, view, words) < 0) {
        logger?.warn(
          { file: path, fault: hFault ?? 'recycled', bytes: buf.length },
          'WAL: removing a newest segment whose header never became durable (torn rotation)',
        );
        await fsp.rm(path);
        break;
      }
      throw corrupt(
        path,
        0,
        recycled ? 'segment header belongs to an older segment' : `bad segment header (${hFault})`,
      );
    }
    if (header.seq !== f.seq || header.firstIndex !== f.firstIndex) {
      throw corrupt(
        path,
        16,
        `header (seq ${header.seq}, first index ${header.firstIndex}) disagrees with the file name`,
      );
    }

    const salt = header.salt;
    key = saltKey(header.seq, salt);
    let off = FILE_HEADER_SIZE;
    let first = true;
    let ended = false;
    while (off < buf.length) {
      const fault = readRecord(buf, off, buf.length, salt, view, words);
      if (fault !== null) {
        if (!isLast) throw corrupt(path, off, `${describeFault(fault)} before the segment's end marker`);
        const later = validRecordAfter(buf, off + 8, buf.length, salt, view, words);
        if (later >= 0) {
          throw corrupt(path, off, `${describeFault(fault)} followed by a valid record at offset ${later}`);
        }
        if (first) {
          if (segments.length === 0 && f.seq !== 1)
            throw corrupt(path, off, `${describeFault(fault)} in the base record`);
          logger?.warn(
            { file: path, offset: off, fault },
            'WAL: removing a newest segment whose first records never became durable (torn rotation)',
          );
          await fsp.rm(path);
          return finish();
        }
        const end = tornEnd(buf, off, buf.length, salt, words);
        if (end > off) {
          const cut: Record<string, unknown> = { file: path, offset: off, bytes: end - off, fault };
          if (
            end - off >= 32 &&
            buf[off + 8]! >= RecordType.Entry &&
            buf[off + 8]! <= RecordType.SegmentEnd
          ) {
            cut.recordType = buf[off + 8];
            cut.recordIndex = readU64(buf, off + 16);
            cut.recordTerm = readU64(buf, off + 24);
          }
          logger?.warn(cut, 'WAL: cut a torn tail (a write that was never acknowledged)');
          const fh = await fsp.open(path, 'r+');
          try {
            await fh.write(Buffer.alloc(end - off), 0, end - off, off);
            await fh.datasync();
          } finally {
            await fh.close();
          }
        }
        break;
      }
      if (first) {
        if (view.type !== RecordType.SegmentBase)
          throw corrupt(path, off, 'segment does not start with its base record');
        const baseFirst = readU64(buf, view.payloadStart);
        const baseFirstTerm = readU64(buf, view.payloadStart + 8);
        if (view.index + 1 !== header.firstIndex || view.payloadLength !== 16) {
          throw corrupt(path, off, 'segment base record disagrees with the header');
        }
        if (segments.length === 0) {
          // The oldest remaining segment: older ones were deleted after a compaction. Entries it
          // does not hold are placeholders that later records must overwrite or compact away.
          index.reset(baseFirst, baseFirstTerm);
          // Their terms are unknown (-1) too, except the last one's, which the base record carries.
          for (let i = baseFirst; i < view.index; i++) index.push(-1, 0, 0);
          if (view.index >= baseFirst) index.push(view.term, 0, 0);
        } else if (
          baseFirst !== index.first ||
          view.index !== index.last ||
          baseFirstTerm !== index.firstTerm ||
          (view.index >= baseFirst && index.term(view.index) !== view.term && index.term(view.index) !== -1)
        ) {
          throw corrupt(path, off, 'segment base record disagrees with the previous segments');
        }
        first = false;
        off = view.next;
        continue;
      }
      switch (view.type) {
        case RecordType.Entry: {
          const i = view.index;
          if (i < index.first || i > index.last + 1) {
            throw corrupt(path, off, `entry ${i} outside the log [${index.first}, ${index.last + 1}]`);
          }
          index.truncateFrom(i);
          index.push(view.term, f.seq, off);
          replayed++;
          break;
        }
        case RecordType.HardState:
          hardState = {
            term: view.term,
            vote: decodeVote(buf, view.payloadStart, view.payloadLength),
            commit: view.index,
          };
          break;
        case RecordType.Compact:
          index.applyCompact(view.index, view.term, (view.entryType & COMPACT_KEEP_SUFFIX) !== 0);
          break;
        case RecordType.SegmentBase:
          throw corrupt(path, off, 'base record in the middle of a segment');
        case RecordType.SegmentEnd:
          ended = true;
          break;
      }
      off = view.next;
      if (ended) break;
    }
    if (!ended && !isLast) throw corrupt(path, off, 'older segment has no end marker');
    segments.push({ seq: f.seq, firstIndex: f.firstIndex, name: f.name, path, size: buf.length, salt });
    writeOffset = off;
    sealed = ended;
  }
  return finish();

  function finish(): Recovered {
    const missing = index.firstMissing();
    if (missing >= 0) {
      const oldest = segments[0] ?? found[0];
      throw corrupt(
        oldest ? join(dir, oldest.name) : dir,
        0,
        `entry ${missing} is in the log but in no segment (an older segment is missing)`,
      );
    }
    const last = found[found.length - 1];
    logger?.info(
      {
        dir,
        segments: segments.length,
        firstIndex: index.first,
        lastIndex: index.last,
        records: replayed,
        term: hardState.term,
        commit: hardState.commit,
      },
      'WAL: recovered',
    );
    return {
      segments,
      index,
      hardState,
      writeOffset: segments.length > 0 ? writeOffset : 0,
      sealed: segments.length > 0 ? sealed : true,
      nextSeq: (segments.length > 0 ? segments[segments.length - 1]!.seq : last ? last.seq - 1 : 0) + 1,
      saltKey: segments.length > 0 ? key : null,
    };
  }
}
