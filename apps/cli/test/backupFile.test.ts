import { createHash } from 'node:crypto';
import { KvStateMachine } from '@keel/kv';
import { describe, expect, it } from 'vitest';
import {
  BACKUP_VERSION,
  BackupFileError,
  type BackupHeader,
  decodeBackup,
  encodeBackup,
} from '../src/commands/snapshot/backupFile.js';
import { inspectKvSnapshot } from '../src/commands/snapshot/verify.js';

const header = (data: Uint8Array, over: Partial<BackupHeader> = {}): BackupHeader => ({
  format: 'keel-kv',
  clusterId: 'local-1',
  member: 'n1',
  index: 42,
  term: 2,
  voters: ['n1', 'n2', 'n3'],
  revision: 0,
  keys: 0,
  bytes: data.length,
  createdAt: '2026-12-03T14:00:00.000Z',
  ...over,
});

const file = (h: BackupHeader, data: Uint8Array): Buffer => Buffer.concat(encodeBackup(h, [data]));

/** The file with its SHA-256 recomputed: damage the checksum cannot see, for the later checks. */
function resealed(bytes: Buffer): Buffer {
  const body = bytes.subarray(0, bytes.length - 32);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

function error(bytes: Uint8Array): string {
  try {
    decodeBackup(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(BackupFileError);
    return (err as Error).message;
  }
  throw new Error('decoded');
}

describe('the backup file (keel snapshot save)', () => {
  const data = new KvStateMachine().snapshotBytes();

  it('round-trips header and data; the layout is magic, version, header length, header, data, SHA-256', () => {
    const h = header(data);
    const bytes = file(h, data);
    expect(bytes.subarray(0, 4).toString()).toBe('KBAK');
    expect(bytes[4]).toBe(BACKUP_VERSION);
    const json = JSON.stringify(h);
    expect(bytes.readUInt32BE(8)).toBe(json.length);
    expect(bytes.length).toBe(12 + json.length + data.length + 32);
    const back = decodeBackup(bytes);
    expect(back.header).toEqual(h);
    expect(Buffer.from(back.data).equals(Buffer.from(data))).toBe(true);
    expect(inspectKvSnapshot(back.data)).toEqual({ revision: 0, keys: 0 });
  });

  it('refuses, with a message naming the check: foreign, other version, any flipped bit, truncation', () => {
    const bytes = file(header(data), data);
    expect(error(Buffer.from('PK\u0003\u0004 a zip file'))).toMatch(/not a Keel backup/);
    expect(error(Buffer.from(''))).toMatch(/not a Keel backup/);
    const v2 = Buffer.from(bytes);
    v2[4] = 2;
    expect(error(v2)).toMatch(/version 2; this build reads version 1/);
    for (const at of [5, 9, 20, bytes.length - 40, bytes.length - 1]) {
      const b = Buffer.from(bytes);
      b[at]! ^= 1;
      expect(error(b)).toMatch(/checksum mismatch/);
    }
    expect(error(bytes.subarray(0, bytes.length - 1))).toMatch(/checksum mismatch|shorter/);
    expect(error(bytes.subarray(0, 20))).toMatch(/shorter than any backup/);
  });

  it('checks the header even under a valid checksum: length, JSON, fields, data size', () => {
    const bytes = file(header(data), data);
    const longHeader = Buffer.from(bytes);
    longHeader.writeUInt32BE(1 << 30, 8);
    expect(error(resealed(longHeader))).toMatch(/header length \d+ does not fit/);
    expect(error(file({ ...header(data), format: 'other' as 'keel-kv' }, data))).toMatch(
      /not a Keel KV snapshot/,
    );
    expect(error(file({ ...header(data), index: -1 }, data))).toMatch(/index is not a non-negative integer/);
    expect(error(file({ ...header(data), voters: [1] as unknown as string[] }, data))).toMatch(/voters/);
    expect(error(file(header(data, { bytes: data.length + 1 }), data))).toMatch(
      /the data is \d+ bytes, the header says/,
    );
  });

  it('a KV snapshot damaged inside a well-sealed file is caught by the store decoder (its CRC-32)', () => {
    const bad = Uint8Array.from(data);
    bad[6]! ^= 0xff;
    expect(() => inspectKvSnapshot(bad)).toThrow(/the KV snapshot inside is damaged/);
  });
});
