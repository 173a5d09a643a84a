/**
 * The whole store as one byte string, for Raft snapshots (dissertation §5.1):
 *
 *   snapshot = magic:4 ("KVSN")  version:u8 (2)
 *              revision:varint  clock:varint  highestClientId:varint
 *              sessionCount:varint  session*      (least recently active first)
 *              lastLeaseId:varint  leaseCount:varint  (id:varint ttlSeconds:varint)*   (ascending ids)
 *              keyCount:varint      kv*           (ascending byte order)
 *              crc32:u32                          (IEEE CRC-32 of every byte before it, big-endian)
 *   session  = clientId:varint  lastSeq:varint  lastActive:varint  hasResult:u8  [result]
 *              (highestClientId, sessionCount and the sessions are @keel/core's `writeSessions`)
 *   kv       = key  value  version:varint  createRevision:varint  modRevision:varint  lease:varint
 *
 * Format 1 (before leases) has no lease section and no `lease` in kvs (nor in the kvs of cached
 * results); it still loads, as a store without leases. Each lease's keys are not stored: they are
 * the keys naming it, rebuilt on restore (a key naming a lease that does not exist is corruption).
 *
 * Sessions keep their activity order because expiry walks them oldest first: a restored member must
 * expire the same sessions at the same entries as the member that took the snapshot. The encoding
 * is a function of the state alone, so members with equal state produce equal bytes.
 *
 * Restoring checks the checksum before reading anything, then every rule the live store keeps
 * (keys strictly ascending, revisions ordered, session ids issued, activity ordered) so a snapshot
 * that passes is one the store could have produced.
 */
import { type SessionLimits, type SessionsImage, SessionTable } from '@keel/core';
import { DecodeError, Reader, readSessions, Writer, writeSessions } from '@keel/core/codec';
import { crc32 } from './crc32.js';
import { SnapshotError, SnapshotErrorReason } from './errors.js';
import { LeaseTable } from './LeaseTable.js';
import { DEFAULT_KV_LIMITS, type KvLimits } from './limits.js';
import {
  type KeyValue,
  type KvResult,
  readKeyValue,
  readResult,
  writeKeyValue,
  writeResult,
} from './results.js';
import { keyString, SortedKeys } from './SortedKeys.js';
import type { KvState } from './state.js';

/** "KVSN" */
export const SNAPSHOT_MAGIC = Uint8Array.of(0x4b, 0x56, 0x53, 0x4e);
export const SNAPSHOT_VERSION = 2;
/** The format before leases, still read. */
const SNAPSHOT_VERSION_NO_LEASES = 1;
const HEADER_BYTES = SNAPSHOT_MAGIC.length + 1;
const CRC_BYTES = 4;

export function encodeSnapshot(state: KvState, limits: KvLimits = DEFAULT_KV_LIMITS): Uint8Array {
  const c = capture(state);
  const w = startSnapshot(c, limits);
  for (const kv of c.kvs) writeKeyValue(w, kv);
  return finishSnapshot(w);
}

/** The store at one instant: key-value objects are immutable (a write replaces one), so references do. */
interface Captured {
  readonly revision: number;
  readonly clock: number;
  readonly sessions: SessionsImage<KvResult>;
  readonly leases: LeasesImage;
  /** In key order. */
  readonly kvs: readonly KeyValue[];
  readonly estimate: number;
}

/** The lease table without its keys (rebuilt from the kvs). */
interface LeasesImage {
  readonly lastId: number;
  /** [id, ttlSeconds], ascending ids. */
  readonly leases: readonly (readonly [number, number])[];
}

function leasesImage(t: LeaseTable): LeasesImage {
  const leases = [...t.byId].map(([id, l]) => [id, l.ttlSeconds] as const).sort((a, b) => a[0] - b[0]);
  return { lastId: t.lastId, leases };
}

/** What the header needs of a capture. */
type HeaderFields = Omit<Captured, 'kvs'> & { readonly kvs: { readonly length: number } };

function capture(state: KvState): Captured {
  const kvs: KeyValue[] = new Array(state.data.size);
  let estimate = 64 + state.sessions.size * 64 + state.leases.size * 16;
  let i = 0;
  for (const ks of state.index.keys()) {
    const kv = state.data.get(ks)!;
    kvs[i++] = kv;
    estimate += kv.key.length + kv.value.length + 48;
  }
  return {
    revision: state.revision,
    clock: state.clock,
    sessions: state.sessions.image(),
    leases: leasesImage(state.leases),
    kvs,
    estimate,
  };
}

function startSnapshot(c: HeaderFields, limits: KvLimits): Writer {
  // A private writer with buffers of `estimate` bytes (for a synchronous snapshot: the whole
  // snapshot, no regrowth copies); its buffers go when the bytes do.
  const w = new Writer(c.estimate);
  w.raw(SNAPSHOT_MAGIC);
  w.u8(SNAPSHOT_VERSION);
  w.varint(c.revision);
  w.varint(c.clock);
  writeSessions(w, c.sessions, (out, result) => writeResult(out, result, limits));
  w.varint(c.leases.lastId);
  w.varint(c.leases.leases.length);
  for (const [id, ttl] of c.leases.leases) {
    w.varint(id);
    w.varint(ttl);
  }
  w.varint(c.kvs.length);
  return w;
}

function finishSnapshot(w: Writer): Uint8Array {
  w.u32(0);
  const bytes = w.finish();
  const body = bytes.subarray(0, bytes.length - CRC_BYTES);
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(body.length, crc32(body));
  return bytes;
}

/** Keys encoded per turn of the event loop by `encodeSnapshotInBackground`. */
export const SNAPSHOT_SLICE_KEYS = 10_000;

/**
 * The store at the moment of the call without copying it: the key order as frozen chunks (cheap),
 * scalars and sessions copied; values are read later through `valueAt`, which must answer with
 * the value a key had at this moment (the state machine keeps the old value of every key written
 * while the encoding runs: copy-on-write).
 */
export interface FrozenState {
  readonly revision: number;
  readonly clock: number;
  readonly sessions: SessionsImage<KvResult>;
  readonly leases: LeasesImage;
  readonly keyChunks: readonly (readonly string[])[];
  readonly count: number;
}

export function freeze(state: KvState): FrozenState {
  const keyChunks = state.index.frozenChunks();
  let count = 0;
  for (const c of keyChunks) count += c.length;
  return {
    revision: state.revision,
    clock: state.clock,
    sessions: state.sessions.image(),
    leases: leasesImage(state.leases),
    keyChunks,
    count,
  };
}

/** Target size of one chunk of a background snapshot (a key-value larger than it makes a larger one). */
export const SNAPSHOT_CHUNK_BYTES = 256 * 1024;

/**
 * The same bytes as `encodeSnapshot` of the frozen moment, as chunks of about
 * `SNAPSHOT_CHUNK_BYTES` (their concatenation is the snapshot), encoded in slices of `sliceKeys`
 * keys, awaiting `pause` (a turn of the event loop) between them, so a member with a large store
 * keeps serving (and a leader keeps sending heartbeats) while it snapshots. Chunks, not one
 * buffer: one allocation the size of a large snapshot makes V8 collect the whole heap at once.
 */
export async function encodeSnapshotInBackground(
  f: FrozenState,
  valueAt: (key: string) => KeyValue,
  pause: () => Promise<void>,
  limits: KvLimits = DEFAULT_KV_LIMITS,
  sliceKeys = SNAPSHOT_SLICE_KEYS,
): Promise<Uint8Array[]> {
  // Each chunk is a frame of a pooled writer: pool buffers of four chunks, a frame cut once it
  // reaches the target size; only a frame that outgrows its buffer is copied (once).
  const w = startSnapshot({ ...f, kvs: { length: f.count }, estimate: 4 * SNAPSHOT_CHUNK_BYTES }, limits);
  const chunks: Uint8Array[] = [];
  let crc = 0;
  const cut = (): void => {
    const c = w.finish();
    crc = crc32(c, crc);
    chunks.push(c);
  };
  let done = 0;
  for (const chunk of f.keyChunks) {
    for (const ks of chunk) {
      writeKeyValue(w, valueAt(ks));
      if (w.length >= SNAPSHOT_CHUNK_BYTES) cut();
      if (++done % sliceKeys === 0) await pause();
    }
  }
  cut();
  w.u32(crc);
  chunks.push(w.finish());
  return chunks;
}

function corrupt(message: string): never {
  throw new SnapshotError(SnapshotErrorReason.Malformed, message);
}

/** Decodes and validates a snapshot into a fresh state, or throws a SnapshotError. */
export function decodeSnapshot(
  bytes: Uint8Array,
  limits: KvLimits = DEFAULT_KV_LIMITS,
  sessionLimits: SessionLimits = {},
): KvState {
  if (bytes.length < HEADER_BYTES + CRC_BYTES) {
    throw new SnapshotError(SnapshotErrorReason.Truncated, `snapshot of ${bytes.length} bytes is too short`);
  }
  for (let i = 0; i < SNAPSHOT_MAGIC.length; i++) {
    if (bytes[i] !== SNAPSHOT_MAGIC[i])
      throw new SnapshotError(SnapshotErrorReason.Magic, 'not a Keel KV snapshot');
  }
  const version = bytes[SNAPSHOT_MAGIC.length]!;
  if (version !== SNAPSHOT_VERSION && version !== SNAPSHOT_VERSION_NO_LEASES) {
    throw new SnapshotError(
      SnapshotErrorReason.Version,
      `snapshot format version ${version}; this build reads ${SNAPSHOT_VERSION_NO_LEASES} and ${SNAPSHOT_VERSION}`,
    );
  }
  const bodyEnd = bytes.length - CRC_BYTES;
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(bodyEnd);
  const actual = crc32(bytes.subarray(0, bodyEnd));
  if (stored !== actual) {
    throw new SnapshotError(
      SnapshotErrorReason.Checksum,
      `snapshot checksum 0x${actual.toString(16)} does not match the stored 0x${stored.toString(16)}`,
    );
  }
  try {
    return readBody(
      new Reader(bytes, HEADER_BYTES, bodyEnd),
      limits,
      sessionLimits,
      version === SNAPSHOT_VERSION,
    );
  } catch (err) {
    if (err instanceof DecodeError) {
      throw new SnapshotError(SnapshotErrorReason.Malformed, `snapshot body: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

function readBody(r: Reader, limits: KvLimits, sessionLimits: SessionLimits, withLeases: boolean): KvState {
  const revision = r.varint();
  const clock = r.varint();
  const image = readSessions(r, clock, (input) => readResult(input, limits, withLeases), corrupt);
  const leases = new LeaseTable(withLeases ? r.varint() : 0);
  const leaseCount = withLeases ? r.count(r.remaining, 'lease count') : 0;
  let previousId = 0;
  for (let i = 0; i < leaseCount; i++) {
    const id = r.varint();
    const ttlSeconds = r.varint();
    if (id === 0 || id > leases.lastId) corrupt(`lease #${i} has id ${id}, not in 1..${leases.lastId}`);
    if (id <= previousId) corrupt(`lease #${i} is not above the previous one`);
    previousId = id;
    if (ttlSeconds === 0) corrupt(`lease ${id} has a TTL of 0`);
    leases.byId.set(id, { ttlSeconds, keys: new Set() });
  }
  // Counts are bounded by the bytes left (every record takes at least one byte per field), so a
  // corrupt count cannot make the decoder allocate more than the snapshot's own size.
  const keyCount = r.count(r.remaining, 'key count');
  const data = new Map<string, KeyValue>();
  const order: string[] = [];
  let bytes = 0;
  let previous: string | null = null;
  for (let i = 0; i < keyCount; i++) {
    const kv = readKeyValue(r, limits, withLeases);
    const ks = keyString(kv.key);
    if (previous !== null && ks <= previous) corrupt(`key #${i} is not above the previous key`);
    if (kv.lease !== undefined) {
      const lease =
        leases.byId.get(kv.lease) ?? corrupt(`key #${i} names lease ${kv.lease}, which does not exist`);
      lease.keys.add(ks);
    }
    if (kv.modRevision > revision) corrupt(`key #${i} was modified after the store revision`);
    previous = ks;
    order.push(ks);
    data.set(ks, kv);
    bytes += kv.key.length + kv.value.length;
  }
  r.done();
  return {
    revision,
    clock,
    bytes,
    data,
    index: SortedKeys.fromSorted(order),
    sessions: new SessionTable(sessionLimits, image),
    leases,
  };
}
