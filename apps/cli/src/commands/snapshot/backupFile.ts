/**
 * The file `keel snapshot save` writes: a KV store's snapshot with what it came from.
 *
 *   magic "KBAK" | version u8 (1) | 3 bytes zero | header length u32 (big-endian) |
 *   header (JSON, UTF-8) | data (header.bytes bytes: the KV snapshot, its own CRC-32 inside) |
 *   SHA-256 of everything before it (32 bytes)
 *
 * The header names the cluster and member it came from, the Raft index and term the data covers,
 * the store's revision and key count, and when it was taken. Reading checks the magic, the version,
 * the SHA-256 and the header before anything else, then the caller decodes the data (which checks
 * its CRC-32 and every rule of the store): a file that passes is whole and is one the store wrote.
 */
import { createHash } from 'node:crypto';

const MAGIC = Uint8Array.of(0x4b, 0x42, 0x41, 0x4b); // "KBAK"
export const BACKUP_VERSION = 1;
const PREFIX = 12;
const HASH = 32;
/** Largest header read: a header is a few hundred bytes, a bigger length is damage. */
const MAX_HEADER = 64 * 1024;

export interface BackupHeader {
  /** What the data is: a `@keel/kv` store snapshot. */
  readonly format: 'keel-kv';
  readonly clusterId: string;
  /** The member that took the snapshot. */
  readonly member: string;
  /** The Raft index and term the data covers: the state after applying the log up to `index`. */
  readonly index: number;
  readonly term: number;
  /** The voters of the cluster at `index`. */
  readonly voters: readonly string[];
  /** The store's revision and number of keys at `index`. */
  readonly revision: number;
  readonly keys: number;
  /** Bytes of data. */
  readonly bytes: number;
  /** When the snapshot was saved (ISO 8601). */
  readonly createdAt: string;
}

/** The file is not a backup, or it is damaged: the message says which and how. */
export class BackupFileError extends Error {
  override readonly name = 'BackupFileError';
  readonly code = 'KEEL_BACKUP_CORRUPT';
}

/** The file's bytes, as chunks to write one after another (the data is not copied). */
export function encodeBackup(header: BackupHeader, data: readonly Uint8Array[]): Uint8Array[] {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const prefix = new Uint8Array(PREFIX);
  prefix.set(MAGIC, 0);
  prefix[4] = BACKUP_VERSION;
  new DataView(prefix.buffer).setUint32(8, json.length);
  const hash = createHash('sha256').update(prefix).update(json);
  for (const c of data) hash.update(c);
  return [prefix, json, ...data, new Uint8Array(hash.digest())];
}

function bad(message: string): never {
  throw new BackupFileError(message);
}

function isNat(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function checkHeader(v: unknown): BackupHeader {
  const h = v as Partial<Record<keyof BackupHeader, unknown>> | null;
  if (typeof h !== 'object' || h === null) bad('the header is not a JSON object');
  if (h.format !== 'keel-kv') bad(`the data is '${String(h.format)}', not a Keel KV snapshot`);
  for (const k of ['clusterId', 'member', 'createdAt'] as const)
    if (typeof h[k] !== 'string') bad(`header field ${k} is not a string`);
  for (const k of ['index', 'term', 'revision', 'keys', 'bytes'] as const)
    if (!isNat(h[k])) bad(`header field ${k} is not a non-negative integer`);
  if (!Array.isArray(h.voters) || !h.voters.every((x) => typeof x === 'string'))
    bad('header field voters is not a list of ids');
  return h as BackupHeader;
}

/** Checks a backup file's bytes: the header and the data (not yet decoded), or BackupFileError. */
export function decodeBackup(file: Uint8Array): { header: BackupHeader; data: Uint8Array } {
  for (let i = 0; i < MAGIC.length; i++) {
    if (file[i] !== MAGIC[i]) bad("not a Keel backup (no 'KBAK' at its start)");
  }
  if (file.length < PREFIX + HASH) bad(`${file.length} bytes is shorter than any backup`);
  if (file[4] !== BACKUP_VERSION)
    bad(`backup format version ${file[4]}; this build reads version ${BACKUP_VERSION}`);
  const end = file.length - HASH;
  const want = Buffer.from(file.buffer, file.byteOffset + end, HASH);
  const got = createHash('sha256').update(file.subarray(0, end)).digest();
  if (!got.equals(want)) {
    bad(
      `checksum mismatch: SHA-256 ${got.toString('hex').slice(0, 16)}... is not the stored ${want.toString('hex').slice(0, 16)}... (the file is damaged or truncated)`,
    );
  }
  const headerLength = new DataView(file.buffer, file.byteOffset).getUint32(8);
  if (headerLength > MAX_HEADER || PREFIX + headerLength > end)
    bad(`header length ${headerLength} does not fit`);
  let json: unknown;
  try {
    json = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(PREFIX, PREFIX + headerLength)),
    );
  } catch {
    bad('the header is not JSON');
  }
  const header = checkHeader(json);
  const data = file.subarray(PREFIX + headerLength, end);
  if (data.length !== header.bytes) bad(`the data is ${data.length} bytes, the header says ${header.bytes}`);
  return { header, data };
}
