import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { SeededRng } from '@keel/core';

/**
 * Storage faults on a stopped member's WAL (format: packages/log/README.md). The member publishes
 * what its WAL has fsynced (`KEEL_TEST_WAL_SYNC_FILE`, rewritten after every fsync and before the
 * acknowledgement); after a SIGKILL the bytes past that point were written but never synced, and a
 * machine that lost power could have persisted any in-order prefix of them, then garbage.
 *
 * Only the newest segment is touched: every older one was sealed and fsynced before the newest was
 * created, so it holds nothing unsynced. Anything at or below the synced offset is never damaged —
 * that would be a disk that loses acknowledged data, which Raft does not tolerate and which would
 * make a failed verdict meaningless.
 */

export interface PublishedSyncState {
  readonly pid: number;
  readonly segments: readonly {
    readonly file: string;
    readonly syncedBytes: number;
    readonly nameDurable: boolean;
  }[];
}

export interface WalDamage {
  readonly kind: 'torn-wal' | 'power-loss';
  readonly file: string | null;
  readonly syncedBytes: number;
  /** Where the last record written ends (the rest of the preallocated segment is zeros). */
  readonly writtenBytes: number;
  /** The first byte changed; bytes before it are as the member left them. */
  readonly cutAt: number;
  readonly garbageBytes: number;
  /** Whether the segment file was removed (a new segment whose directory entry was not durable). */
  readonly removed: boolean;
  /** Why nothing was damaged, when nothing was. */
  readonly skipped: string | null;
}

const HEADER_BYTES = 32;
const RECORD_HEADER_BYTES = 32;
const MAX_RECORD_TYPE = 5;

export function readSyncState(path: string): PublishedSyncState | null {
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as PublishedSyncState;
    return typeof s.pid === 'number' && Array.isArray(s.segments) ? s : null;
  } catch {
    return null;
  }
}

/**
 * The end of the last record in a segment: walk the records by their length fields from the header
 * until a zero (preallocated) or implausible header. Checksums are not verified: this finds where
 * writing stopped, the WAL's own recovery decides what is valid.
 */
export function writtenEnd(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = HEADER_BYTES;
  if (bytes.length < HEADER_BYTES) return bytes.length;
  // Format v2 recycles segment files: past the last record of this incarnation lie the records
  // of the file's previous life, which carry another salt (bytes 12-15 of a record; the
  // segment's own is at 20 in the header; version 1 has salt 0 everywhere).
  const salt = view.getUint32(20, true);
  for (;;) {
    if (off + RECORD_HEADER_BYTES > bytes.length) return off;
    const len = view.getUint32(off, true);
    const type = bytes[off + 8]!;
    if (type === 0 || type > MAX_RECORD_TYPE) return off;
    if (view.getUint32(off + 12, true) !== salt) return off;
    const size = RECORD_HEADER_BYTES + Math.ceil(len / 8) * 8;
    if (off + size > bytes.length) return off;
    off += size;
  }
}

function segmentFiles(walDir: string): string[] {
  if (!existsSync(walDir)) return [];
  return readdirSync(walDir)
    .filter((f) => f.endsWith('.wal'))
    .sort();
}

/**
 * Damages the newest segment of a stopped member's WAL as `kind` says, with randomness from `seed`:
 * - `power-loss`: everything past the synced offset is lost: garbage (1-512 bytes) at the synced
 *   offset, zeros after it; a segment whose name was not yet durable may vanish entirely.
 * - `torn-wal`: a write torn at a random byte past the synced offset: an in-order prefix of the
 *   unsynced bytes survives, then garbage (0-200 bytes), then zeros. When everything written was
 *   synced, the torn write is the next one: 1-200 bytes of garbage after the last record.
 */
export function damageWal(
  walDir: string,
  sync: PublishedSyncState | null,
  kind: 'torn-wal' | 'power-loss',
  seed: number,
  expectPid?: number,
): WalDamage {
  const rng = new SeededRng(seed);
  const none = (
    skipped: string,
    file: string | null = null,
    syncedBytes = 0,
    writtenBytes = 0,
  ): WalDamage => ({
    kind,
    file,
    syncedBytes,
    writtenBytes,
    cutAt: writtenBytes,
    garbageBytes: 0,
    removed: false,
    skipped,
  });
  if (sync === null) return none('no published sync state (member started without KEEL_TEST_WAL_SYNC_FILE?)');
  if (expectPid !== undefined && sync.pid !== expectPid) {
    return none(`sync state is from pid ${sync.pid}, not the killed pid ${expectPid}`);
  }
  const files = segmentFiles(walDir);
  const newest = files[files.length - 1];
  if (newest === undefined) return none('no WAL segment on disk');
  const known = sync.segments.find((s) => basename(s.file) === newest);
  if (known === undefined) {
    // A segment created after the last published state: a rotation in flight. Leave it alone.
    return none(`newest segment ${newest} is not in the published sync state (rotation in flight)`, newest);
  }
  const path = join(walDir, newest);
  if (kind === 'power-loss' && !known.nameDurable && files.length > 1 && rng.float() < 0.5) {
    rmSync(path);
    return { ...none('', newest, 0, 0), removed: true, skipped: null };
  }
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const bytes = new Uint8Array(size);
    readSync(fd, bytes, 0, size, 0);
    const written = writtenEnd(bytes);
    const synced = Math.min(known.syncedBytes, size);
    // With nothing unsynced, the torn write is the next one: its first bytes after the last record.
    const cutAt =
      kind === 'power-loss' ? synced : written <= synced ? written : synced + rng.int(written - synced + 1);
    const garbage = Math.min(
      size - cutAt,
      kind === 'power-loss' || written <= synced
        ? 1 + rng.int(kind === 'power-loss' ? 512 : 200)
        : rng.int(201),
    );
    const patch = new Uint8Array(Math.max(0, Math.max(written, cutAt + garbage) - cutAt));
    for (let i = 0; i < garbage; i++) patch[i] = rng.int(256);
    if (patch.length > 0) writeSync(fd, patch, 0, patch.length, cutAt);
    return {
      kind,
      file: newest,
      syncedBytes: synced,
      writtenBytes: written,
      cutAt,
      garbageBytes: garbage,
      removed: false,
      skipped: null,
    };
  } finally {
    closeSync(fd);
  }
}

/** Outside the fault model (test-only `amnesia`): the member forgets everything it ever fsynced. */
export function wipeWal(walDir: string): void {
  rmSync(walDir, { recursive: true, force: true });
}
