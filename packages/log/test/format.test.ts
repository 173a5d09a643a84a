import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../src/crc32c.js';
import {
  FILE_HEADER_SIZE,
  newRecordBuffer,
  newRecordView,
  parseSegmentName,
  RecordType,
  readFileHeader,
  readRecord,
  recordSize,
  saltKey,
  segmentName,
  segmentSalt,
  wordsOf,
  writeEntryRecord,
  writeFileHeader,
  writeRecord,
} from '../src/format.js';
import { assertProperty } from './propertySeeds.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const SALT = 0x11223344;

describe('on-disk format v2 (golden bytes)', () => {
  it('segment header: magic, version, checksum, sequence, salt, first index', () => {
    const h = Buffer.alloc(FILE_HEADER_SIZE);
    writeFileHeader(h, 0, { seq: 1, firstIndex: 1, salt: SALT });
    expect(h).toEqual(
      hex(`4b45454c57414c00 02000000 0f4a7876
           01000000 44332211 0100000000000000`),
    );
    expect(readFileHeader(h)).toEqual({
      fault: null,
      header: { seq: 1, firstIndex: 1, salt: SALT },
      version: 2,
    });
  });

  it('entry record: length, crc, type, entry type, reserved, salt, index, term, padded payload', () => {
    const b = Buffer.alloc(recordSize(3));
    expect(writeRecord(b, 0, SALT, RecordType.Entry, 1, 1, 2, Buffer.from('abc'))).toBe(40);
    expect(b).toEqual(
      hex(`03000000 04eb509d 01 01 0000 44332211
           0100000000000000 0200000000000000
           6162630000000000`),
    );
  });

  it('hard state record: index = commit, term, payload = vote', () => {
    const b = Buffer.alloc(recordSize(2));
    writeRecord(b, 0, SALT, RecordType.HardState, 0, 7, 3, Buffer.from('n1'));
    expect(b).toEqual(
      hex(`02000000 47578fa8 02 00 0000 44332211
           0700000000000000 0300000000000000
           6e31000000000000`),
    );
  });

  it('u64 fields hold values above 2^32', () => {
    const b = Buffer.alloc(recordSize(0));
    writeRecord(b, 0, SALT, RecordType.Entry, 0, 2 ** 40 + 5, 2 ** 33, null);
    expect(b).toEqual(hex('00000000 f22ad738 01 00 0000 44332211 0500000000010000 0000000002000000'));
    const v = newRecordView();
    expect(readRecord(b, 0, b.length, SALT, v)).toBeNull();
    expect([v.index, v.term]).toEqual([2 ** 40 + 5, 2 ** 33]);
  });

  it('a record with another salt is stale, never valid, even with a correct checksum', () => {
    const b = Buffer.alloc(recordSize(3));
    writeRecord(b, 0, SALT, RecordType.Entry, 1, 1, 2, Buffer.from('abc'));
    expect(readRecord(b, 0, b.length, SALT + 1, newRecordView())).toBe('stale');
    expect(readRecord(b, 0, b.length, 0, newRecordView())).toBe('stale');
  });

  it('segment names carry the sequence number and the first index', () => {
    expect(segmentName(3, 4097)).toBe('0000000003-00000000000000004097.wal');
    expect(parseSegmentName('0000000003-00000000000000004097.wal')).toEqual({ seq: 3, firstIndex: 4097 });
    expect(parseSegmentName('0000000003-4097.wal')).toBeNull();
  });

  it('salts of one directory differ for every segment and are recoverable from any header', () => {
    const key = 0xdeadbeef;
    const seen = new Set<number>();
    for (let seq = 1; seq <= 10_000; seq++) seen.add(segmentSalt(seq, key));
    expect(seen.size).toBe(10_000);
    expect(saltKey(77, segmentSalt(77, key))).toBe(key);
  });
});

describe('on-disk format v1 (still read: v2 with salt 0)', () => {
  // Bytes written by the version-1 code (pinned by its golden tests before the v2 change).
  it('reads a v1 header as salt 0', () => {
    const h = hex(`4b45454c57414c00 01000000 a8d5e1d8
                   0100000000000000 0100000000000000`);
    expect(readFileHeader(h)).toEqual({
      fault: null,
      header: { seq: 1, firstIndex: 1, salt: 0 },
      version: 1,
    });
  });

  it('validates v1 records with salt 0 and rejects them under any other salt', () => {
    const rec = hex(`03000000 b47d53c6 01 01 000000000000
                     0100000000000000 0200000000000000
                     6162630000000000`);
    const v = newRecordView();
    expect(readRecord(rec, 0, rec.length, 0, v)).toBeNull();
    expect([v.type, v.entryType, v.index, v.term, v.payloadLength]).toEqual([1, 1, 1, 2, 3]);
    expect(readRecord(rec, 0, rec.length, SALT, v)).toBe('stale');
    // And the v2 encoder with salt 0 writes exactly the v1 bytes.
    const b = Buffer.alloc(recordSize(3));
    writeRecord(b, 0, 0, RecordType.Entry, 1, 1, 2, Buffer.from('abc'));
    expect(b).toEqual(rec);
  });

  it('refuses versions it does not know', () => {
    const h = Buffer.alloc(FILE_HEADER_SIZE);
    writeFileHeader(h, 0, { seq: 1, firstIndex: 1, salt: SALT });
    h.writeUInt32LE(3, 8);
    h.writeUInt32LE(crc32c(h, crc32c(h, 0, 0, 12), 16, 32), 12);
    expect(readFileHeader(h)).toMatchObject({ fault: 'version', version: 3 });
  });
});

describe('record validation', () => {
  it('round-trips any record and detects every single flipped bit', () => {
    assertProperty(
      fc.property(
        fc.uint8Array({ maxLength: 70 }),
        fc.integer({ min: 1, max: 5 }),
        fc.nat({ max: 2 ** 40 }),
        fc.nat({ max: 2 ** 40 }),
        fc.nat(),
        fc.nat({ max: 0xffffffff }),
        (payload, type, index, term, flip, salt) => {
          const b = Buffer.alloc(recordSize(payload.length));
          writeRecord(b, 0, salt, type as RecordType, 1, index, term, payload);
          const v = newRecordView();
          expect(readRecord(b, 0, b.length, salt, v)).toBeNull();
          expect([v.type, v.index, v.term, v.payloadLength, v.next]).toEqual([
            type,
            index,
            term,
            payload.length,
            b.length,
          ]);
          expect(b.subarray(v.payloadStart, v.payloadStart + v.payloadLength).equals(payload)).toBe(true);
          const bit = flip % (b.length * 8);
          b[bit >> 3] = (b[bit >> 3]! ^ (1 << (bit & 7))) & 0xff;
          expect(readRecord(b, 0, b.length, salt, v)).not.toBeNull();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the word-wise entry encoder writes the same bytes as writeRecord, over any old contents', () => {
    assertProperty(
      fc.property(
        fc.array(
          fc.record({
            payload: fc.uint8Array({ maxLength: 300 }),
            entryType: fc.nat({ max: 255 }),
            index: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
            term: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.nat({ max: 255 }),
        (records, junk) => {
          const size = records.reduce((n, r) => n + recordSize(r.payload.length), 0);
          const rb = newRecordBuffer(size + 64);
          rb.buf.fill(junk); // reused staging buffers hold old records: padding must be rewritten
          const ref = Buffer.alloc(size);
          let at = 8; // not at the start of the buffer
          let refAt = 0;
          for (const r of records) {
            at = writeEntryRecord(rb, at, SALT, r.entryType, r.index, r.term, r.payload);
            refAt = writeRecord(ref, refAt, SALT, RecordType.Entry, r.entryType, r.index, r.term, r.payload);
          }
          expect(at - 8).toBe(size);
          expect(rb.buf.subarray(8, at).equals(ref)).toBe(true);
          const v = newRecordView();
          const words = wordsOf(rb.buf);
          let off = 8;
          for (const r of records) {
            expect(readRecord(rb.buf, off, at, SALT, v, words)).toBeNull();
            expect([v.index, v.term, v.entryType, v.payloadLength]).toEqual([
              r.index,
              r.term,
              r.entryType,
              r.payload.length,
            ]);
            off = v.next;
          }
          rb.buf[8 + 16] = (rb.buf[8 + 16]! + 1) & 0xff;
          expect(readRecord(rb.buf, 8, at, SALT, v, words)).not.toBeNull();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('classifies zeros, short buffers and absurd lengths without reading past the end', () => {
    const v = newRecordView();
    expect(readRecord(Buffer.alloc(64), 0, 64, 0, v)).toBe('zero');
    expect(readRecord(Buffer.alloc(16), 0, 16, 0, v)).toBe('short');
    const b = Buffer.alloc(recordSize(8));
    writeRecord(b, 0, SALT, RecordType.Entry, 1, 1, 1, Buffer.alloc(8, 1));
    expect(readRecord(b, 0, b.length - 8, SALT, v)).toBe('short');
    b.writeUInt32LE(0xffffffff, 0);
    expect(readRecord(b, 0, b.length, SALT, v)).toBe('length');
  });

  it('rejects a header with a bad checksum or magic', () => {
    const h = Buffer.alloc(FILE_HEADER_SIZE);
    writeFileHeader(h, 0, { seq: 9, firstIndex: 100, salt: SALT });
    h[20] = 1;
    expect(readFileHeader(h).fault).toBe('checksum');
    h[0] = 0;
    expect(readFileHeader(h).fault).toBe('magic');
  });
});
