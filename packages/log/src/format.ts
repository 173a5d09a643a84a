/**
 * The on-disk format, version 2. Pure functions over Buffers; no I/O. Golden-hex tests pin it.
 *
 * Segment file: a 32-byte header, then 8-byte-aligned records, then whatever the file held before
 * (zeros from preallocation, or the records of an older segment when the file is recycled).
 *
 *   header  0  8  magic "KEELWAL\0"
 *           8  u32 version (2; 1 is still read)
 *          12  u32 CRC32C of header bytes [0,12) and [16,32)
 *          16  u32 segment sequence number (1, 2, ...; gaps are corruption)
 *          20  u32 salt of this segment (see segmentSalt)
 *          24  u64 first index: the index the log's next entry had when the segment was created
 *
 *   record  0  u32 payload length (unpadded)
 *           4  u32 CRC32C of record bytes [0,4) and [8, end of padding)
 *           8  u8  record type (RecordType; 0 never appears in a valid record)
 *           9  u8  entry type (Entry records), else 0
 *          10  2 bytes reserved, zero
 *          12  u32 salt: the segment's salt (record belongs to this incarnation of the file)
 *          16  u64 index
 *          24  u64 term
 *          32  payload, zero-padded to a multiple of 8
 *
 * All integers are little-endian; u64 values stay below 2^53. The checksum covers the length, the
 * types, salt, index, term, payload and padding, so any flipped bit of a record is detected, and a
 * record of zeros (a preallocated tail) never validates because type 0 is invalid. A record whose
 * salt is not its segment's is "stale": left over from the file's previous life as another segment
 * (recycling), never valid, whatever its checksum says.
 *
 * Version 1 is version 2 with every salt 0: its header had a u64 sequence number at 16 (whose high
 * word, at 20, is 0 below 2^32 segments) and six zero reserved bytes at 10 (so bytes 12-15 are 0).
 * A v1 segment is read, and appended to, with salt 0; new segments are v2.
 */
import { crc32c, crc32cRecord, crc32cWords, LITTLE_ENDIAN } from './crc32c.js';

export const FORMAT_VERSION = 2;
/** Version 1 segments (salt 0) are still read and appended to; see the top of this file. */
export const OLDEST_READABLE_VERSION = 1;
export const MAGIC = Buffer.from('KEELWAL\0', 'latin1');
export const FILE_HEADER_SIZE = 32;
export const RECORD_HEADER_SIZE = 32;
/** A record larger than this is taken as damage, never allocated. */
export const MAX_PAYLOAD = 64 * 1024 * 1024;

export const RecordType = {
  /** index, term, entry type; payload = entry data. */
  Entry: 1,
  /** index = commit, term = term; payload = vote as UTF-8 (empty = no vote). */
  HardState: 2,
  /**
   * The prefix up to index (whose term is term) is covered by a snapshot and dropped. The entry
   * type byte holds flags: COMPACT_KEEP_SUFFIX when the entries after index were kept (the log held
   * index with term); otherwise the whole log was dropped (a snapshot install).
   */
  Compact: 3,
  /**
   * First record of every segment: the log as it stood when the segment was created, so a segment
   * can be replayed without the older ones once they are deleted. index = last index, term = its
   * term; payload = u64 first index, u64 term of first index - 1.
   */
  SegmentBase: 4,
  /** Last record of every sealed segment: a newer segment follows. index = last index at sealing. */
  SegmentEnd: 5,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** Flag in the entry-type byte of a Compact record. */
export const COMPACT_KEEP_SUFFIX = 1;

const TWO_32 = 0x1_0000_0000;

export function align8(n: number): number {
  return (n + 7) & ~7;
}

export function recordSize(payloadLength: number): number {
  return RECORD_HEADER_SIZE + align8(payloadLength);
}

export function writeU64(buf: Buffer, off: number, v: number): void {
  buf.writeUInt32LE(v >>> 0, off);
  buf.writeUInt32LE(Math.floor(v / TWO_32), off + 4);
}

export function readU64(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off + 4) * TWO_32 + buf.readUInt32LE(off);
}

/**
 * Writes one record at `off` (8-aligned) of `buf`, which must have room for recordSize(length).
 * The payload is `payload[pStart, pStart + length)`. Returns the offset after the padding.
 */
export function writeRecord(
  buf: Buffer,
  off: number,
  salt: number,
  type: RecordType,
  entryType: number,
  index: number,
  term: number,
  payload: Uint8Array | null,
  pStart = 0,
  length = payload === null ? 0 : payload.byteLength - pStart,
): number {
  buf.writeUInt32LE(length, off);
  buf[off + 8] = type;
  buf[off + 9] = entryType;
  buf.fill(0, off + 10, off + 12);
  buf.writeUInt32LE(salt >>> 0, off + 12);
  writeU64(buf, off + 16, index);
  writeU64(buf, off + 24, term);
  const p = off + RECORD_HEADER_SIZE;
  if (payload !== null && length > 0) {
    buf.set(
      pStart === 0 && length === payload.byteLength ? payload : payload.subarray(pStart, pStart + length),
      p,
    );
  }
  const end = p + align8(length);
  if (end > p + length) buf.fill(0, p + length, end);
  buf.writeUInt32LE(crc32cRecord(buf, off, end), off + 4);
  return end;
}

/**
 * A buffer for encoding records plus an Int32Array view of the same memory, so record headers are
 * stored and checksummed a word at a time. The buffer owns its ArrayBuffer (byteOffset 0).
 */
export interface RecordBuffer {
  readonly buf: Buffer;
  readonly words: Int32Array;
}

export function newRecordBuffer(size: number): RecordBuffer {
  const buf = Buffer.allocUnsafeSlow(align8(size));
  return { buf, words: new Int32Array(buf.buffer, buf.byteOffset, buf.length >> 2) };
}

/**
 * Writes an Entry record at `off` (8-aligned) of `rb`, which must have room for
 * recordSize(data.byteLength). Same bytes as writeRecord(..., RecordType.Entry, ...), without its
 * generic steps: header fields are stored as words, only the padding word(s) are zeroed, and the
 * checksum runs over words (on a big-endian host it is writeRecord). Returns the offset after the
 * padding.
 */
export function writeEntryRecord(
  rb: RecordBuffer,
  off: number,
  salt: number,
  entryType: number,
  index: number,
  term: number,
  data: Uint8Array,
): number {
  if (!LITTLE_ENDIAN) return writeRecord(rb.buf, off, salt, RecordType.Entry, entryType, index, term, data);
  const w = rb.words;
  const length = data.byteLength;
  const o = off >> 2;
  const e = o + 8 + (((length + 7) >> 2) & ~1);
  w[o] = length;
  w[o + 2] = RecordType.Entry | ((entryType & 0xff) << 8);
  w[o + 3] = salt;
  w[o + 4] = index >>> 0;
  w[o + 5] = Math.floor(index / TWO_32);
  w[o + 6] = term >>> 0;
  w[o + 7] = Math.floor(term / TWO_32);
  if ((length & 7) !== 0) w[e - 1] = w[e - 2] = 0;
  rb.buf.set(data, off + RECORD_HEADER_SIZE);
  w[o + 1] = crc32cWords(w, crc32cWords(w, 0, o, o + 1), o + 2, e);
  return e << 2;
}

/** A decoded record header; reused across calls so scanning allocates nothing per record. */
export interface RecordView {
  type: number;
  entryType: number;
  index: number;
  term: number;
  payloadStart: number;
  payloadLength: number;
  /** Offset just after the record's padding. */
  next: number;
}

export function newRecordView(): RecordView {
  return { type: 0, entryType: 0, index: 0, term: 0, payloadStart: 0, payloadLength: 0, next: 0 };
}

/**
 * Why a record at some offset is not valid; null when it is. 'stale': a well-formed header whose
 * salt is another segment's (a recycled file's old contents); its checksum is not even computed.
 */
export type RecordFault = 'short' | 'zero' | 'length' | 'type' | 'stale' | 'checksum' | null;

/**
 * An Int32Array over `buf`'s memory (words[k] = bytes [4k, 4k + 4) of buf), for readRecord's word
 * checksum path; null where that path does not apply (big-endian host, unaligned buffer).
 */
export function wordsOf(buf: Uint8Array): Int32Array | null {
  return LITTLE_ENDIAN && (buf.byteOffset & 3) === 0
    ? new Int32Array(buf.buffer, buf.byteOffset, buf.length >> 2)
    : null;
}

/**
 * Validates the record at `off` of `buf[.., end)` and fills `view`. Never trusts the length field
 * beyond `end` and MAX_PAYLOAD. `words` (from wordsOf(buf)), when given, speeds up the checksum.
 */
export function readRecord(
  buf: Buffer,
  off: number,
  end: number,
  salt: number,
  view: RecordView,
  words: Int32Array | null = null,
): RecordFault {
  if (end - off < RECORD_HEADER_SIZE) return 'short';
  const length = buf.readUInt32LE(off);
  const type = buf[off + 8]!;
  if (type === 0) return length === 0 && buf.readUInt32LE(off + 4) === 0 ? 'zero' : 'type';
  if (type > RecordType.SegmentEnd) return 'type';
  if (length > MAX_PAYLOAD) return 'length';
  if (buf[off + 10] !== 0 || buf[off + 11] !== 0) return 'type';
  if (buf.readUInt32LE(off + 12) !== salt >>> 0) return 'stale';
  const next = off + RECORD_HEADER_SIZE + align8(length);
  if (next > end) return 'short';
  let crc: number;
  if (words !== null && (off & 3) === 0) {
    const o = off >> 2;
    crc = crc32cWords(words, crc32cWords(words, 0, o, o + 1), o + 2, next >> 2);
  } else {
    crc = crc32cRecord(buf, off, next);
  }
  if (crc !== buf.readUInt32LE(off + 4)) return 'checksum';
  view.type = type;
  view.entryType = buf[off + 9]!;
  view.index = readU64(buf, off + 16);
  view.term = readU64(buf, off + 24);
  view.payloadStart = off + RECORD_HEADER_SIZE;
  view.payloadLength = length;
  view.next = next;
  return null;
}

export interface FileHeader {
  readonly seq: number;
  readonly firstIndex: number;
  /** The salt every record of the segment carries (0 in version 1). */
  readonly salt: number;
}

/** The largest sequence number the u32 header field holds. */
export const MAX_SEQ = 0xffff_ffff;

/** Writes a version-2 header. */
export function writeFileHeader(buf: Buffer, off: number, h: FileHeader): void {
  MAGIC.copy(buf, off);
  buf.writeUInt32LE(FORMAT_VERSION, off + 8);
  buf.writeUInt32LE(h.seq, off + 16);
  buf.writeUInt32LE(h.salt >>> 0, off + 20);
  writeU64(buf, off + 24, h.firstIndex);
  const crc = crc32c(buf, crc32c(buf, 0, off, off + 12), off + 16, off + 32);
  buf.writeUInt32LE(crc, off + 12);
}

export type HeaderFault = 'short' | 'magic' | 'checksum' | 'version' | null;

export function readFileHeader(buf: Buffer): {
  fault: HeaderFault;
  header: FileHeader | null;
  version: number;
} {
  if (buf.length < FILE_HEADER_SIZE) return { fault: 'short', header: null, version: 0 };
  if (!buf.subarray(0, 8).equals(MAGIC)) return { fault: 'magic', header: null, version: 0 };
  const crc = crc32c(buf, crc32c(buf, 0, 0, 12), 16, 32);
  if (crc !== buf.readUInt32LE(12)) return { fault: 'checksum', header: null, version: 0 };
  const version = buf.readUInt32LE(8);
  if (version < OLDEST_READABLE_VERSION || version > FORMAT_VERSION) {
    return { fault: 'version', header: null, version };
  }
  const seq = version === 1 ? readU64(buf, 16) : buf.readUInt32LE(16);
  const salt = version === 1 ? 0 : buf.readUInt32LE(20);
  return { fault: null, header: { seq, firstIndex: readU64(buf, 24), salt }, version };
}

const SALT_MIX = 0x9e3779b1;

/**
 * The salt of segment `seq` in a directory whose salt key is `key`: an odd multiplier then an XOR,
 * a bijection on u32, so no two segments of one directory share a salt (a recycled file's stale
 * records can never pass for the new segment's), while the random key keeps salts unpredictable to
 * whoever chooses entry payloads (a payload shaped like a record cannot be aimed at a future
 * segment). It is 0 for the one seq whose mix equals the key: for a random key a uniformly random
 * u32, and for a key taken over from a version-1 directory (saltKey(lastV1Seq, 0)) that last v1
 * segment itself, so no later segment shares salt 0 with the v1 records a recycled file may hold.
 */
export function segmentSalt(seq: number, key: number): number {
  return (Math.imul(seq >>> 0, SALT_MIX) ^ key) >>> 0;
}

/** The key a segment's salt was derived with (inverse of segmentSalt for that seq). */
export function saltKey(seq: number, salt: number): number {
  return (Math.imul(seq >>> 0, SALT_MIX) ^ salt) >>> 0;
}

const NAME_RE = /^(\d{10})-(\d{20})\.wal$/;

/** `0000000003-00000000000000004097.wal`: sequence number, then the first index. */
export function segmentName(seq: number, firstIndex: number): string {
  return `${String(seq).padStart(10, '0')}-${String(firstIndex).padStart(20, '0')}.wal`;
}

export function parseSegmentName(name: string): { seq: number; firstIndex: number } | null {
  const m = NAME_RE.exec(name);
  if (!m) return null;
  return { seq: Number(m[1]), firstIndex: Number(m[2]) };
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8', { fatal: true });

export function encodeVote(vote: string | null): Uint8Array | null {
  return vote === null ? null : utf8.encode(vote);
}

export function decodeVote(buf: Buffer, start: number, length: number): string | null {
  return length === 0 ? null : utf8d.decode(buf.subarray(start, start + length));
}
