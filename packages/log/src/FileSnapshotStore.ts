/**
 * State-machine snapshots on disk (paper §7), the file twin of core's in-memory snapshot store.
 *
 * One file per snapshot, `snap-<index, 20 digits>-<term>.snap`:
 *
 *   magic "KSNP" | version u8 (1) | 3 bytes zero | index u64 | term u64 | conf length u32 |
 *   conf (JSON, UTF-8) | data length u64 | data | CRC32C u32 of everything before it
 *
 * (integers little-endian). A save writes `<name>.tmp`, fsyncs it, renames it into place and fsyncs
 * the directory, so a crash leaves either the previous snapshot or the new one, never a mix; then
 * it deletes every older snapshot (the WAL, compacted behind the new one, no longer needs them).
 * At open, leftover `.tmp` files are deleted and the newest snapshot is read and verified; a
 * snapshot that fails its checksum is corruption (it was complete and synced when it was renamed):
 * open refuses with KEEL_SNAPSHOT_CORRUPT naming the file, never falls back silently to an older
 * state that the WAL may no longer extend.
 *
 * The latest snapshot's bytes stay in memory: the driver reads them synchronously when a follower
 * needs them, and they are what the state machine produced anyway.
 */
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  chunksLength,
  type SnapshotBytes,
  type SnapshotChunks,
  type SnapshotMeta,
  type SnapshotSink,
  type SnapshotStore,
  type StoredSnapshot,
  toChunks,
} from '@keel/core';
import { decodeConfJson, encodeConfJson } from './confJson.js';
import { crc32c } from './crc32c.js';
import { SnapshotError, SnapshotErrorCode } from './errors.js';

const MAGIC = 0x504e534b; // "KSNP" little-endian
const VERSION = 1;
const NAME = /^snap-(\d{20})-(\d+)\.snap$/;
/** Bytes before the conf JSON: magic, version + padding, index, term, conf length. */
const HEAD = 4 + 4 + 8 + 8 + 4;

export function snapshotFileName(meta: SnapshotMeta): string {
  return `snap-${String(meta.index).padStart(20, '0')}-${meta.term}.snap`;
}

/** The bytes before the data: magic, version, index, term, the conf JSON and the data length. */
function encodeHead(meta: SnapshotMeta, dataLength: number): Uint8Array {
  const conf = new TextEncoder().encode(encodeConfJson(meta.conf));
  const head = new Uint8Array(HEAD + conf.length + 8);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint8(4, VERSION);
  dv.setBigUint64(8, BigInt(meta.index), true);
  dv.setBigUint64(16, BigInt(meta.term), true);
  dv.setUint32(24, conf.length, true);
  head.set(conf, HEAD);
  dv.setBigUint64(HEAD + conf.length, BigInt(dataLength), true);
  return head;
}

function u32le(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/** The snapshot file's bytes: header, conf, data and the trailing checksum. */
export function encodeSnapshotFile(meta: SnapshotMeta, data: SnapshotBytes): Uint8Array {
  const chunks = toChunks(data);
  const length = chunksLength(chunks);
  const head = encodeHead(meta, length);
  const buf = new Uint8Array(head.length + length + 4);
  buf.set(head, 0);
  let at = head.length;
  for (const c of chunks) {
    buf.set(c, at);
    at += c.length;
  }
  buf.set(u32le(crc32c(buf, 0, 0, at)), at);
  return buf;
}

/** Bytes checksummed and written per step of a save: a large snapshot never blocks the event loop long. */
const SAVE_CHUNK = 4 << 20;

/** Decodes and verifies a snapshot file's bytes, or throws KEEL_SNAPSHOT_CORRUPT naming `file`. */
export function decodeSnapshotFile(buf: Uint8Array, file: string): StoredSnapshot {
  const bad = (what: string): never => {
    throw new SnapshotError(SnapshotErrorCode.Corrupt, `corrupt snapshot ${file}: ${what}`, { file });
  };
  if (buf.length < HEAD + 8 + 4) bad(`${buf.length} bytes is shorter than any snapshot`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) bad('not a Keel snapshot file (bad magic)');
  const version = dv.getUint8(4);
  if (version !== VERSION) {
    throw new SnapshotError(
      SnapshotErrorCode.UnsupportedVersion,
      `snapshot ${file} has format version ${version}; this build reads ${VERSION}`,
      { file },
    );
  }
  const end = buf.length - 4;
  const stored = dv.getUint32(end, true);
  const actual = crc32c(buf, 0, 0, end);
  if (stored !== actual)
    bad(`checksum 0x${actual.toString(16)} does not match the stored 0x${stored.toString(16)}`);
  const index = Number(dv.getBigUint64(8, true));
  const term = Number(dv.getBigUint64(16, true));
  const confLen = dv.getUint32(24, true);
  if (HEAD + confLen + 8 > end) bad('configuration runs past the end');
  const conf = decodeConfJson(new TextDecoder().decode(buf.subarray(HEAD, HEAD + confLen)));
  if (typeof conf === 'string') return bad(conf);
  const at = HEAD + confLen;
  const dataLen = Number(dv.getBigUint64(at, true));
  if (at + 8 + dataLen !== end) bad(`data length ${dataLen} does not fit the file`);
  // A plain copy (not a Buffer view), so the snapshot does not pin the file's whole buffer.
  const data = new Uint8Array(buf.subarray(at + 8, at + 8 + dataLen));
  return { meta: { index, term, conf }, chunks: [data] };
}

export interface FileSnapshotStoreOptions {
  /** Called after a snapshot was saved and older ones deleted (for logs and metrics). */
  readonly onSaved?: (meta: SnapshotMeta, bytes: number, ms: number) => void;
}

/**
 * Opens (creating if needed) a snapshot directory and loads its newest snapshot. Throws a
 * SnapshotError (KEEL_SNAPSHOT_CORRUPT / KEEL_SNAPSHOT_UNSUPPORTED_VERSION) when that snapshot is
 * damaged or of another format.
 */
export async function openSnapshotStore(
  dir: string,
  options: FileSnapshotStoreOptions = {},
): Promise<FileSnapshotStore> {
  await mkdir(dir, { recursive: true });
  const names = await readdir(dir);
  for (const n of names) if (n.endsWith('.tmp')) await rm(join(dir, n), { force: true });
  const snaps = names
    .map((n) => ({ n, m: NAME.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => (a.m[1]! < b.m[1]! ? 1 : a.m[1]! > b.m[1]! ? -1 : 0));
  let latest: StoredSnapshot | null = null;
  const newest = snaps[0];
  if (newest !== undefined) {
    const file = join(dir, newest.n);
    latest = decodeSnapshotFile(readFileSync(file), file);
    // Older snapshots a crash kept from being deleted.
    for (const s of snaps.slice(1)) await rm(join(dir, s.n), { force: true });
  }
  return new FileSnapshotStore(dir, latest, options);
}

/** Durable, atomic snapshot files in one directory: core's SnapshotStore for real members. */
export class FileSnapshotStore implements SnapshotStore {
  #latest: StoredSnapshot | null;
  /** Saves run one after another, in call order. */
  #queue: Promise<void> = Promise.resolve();
  #failure: Error | null = null;

  constructor(
    readonly dir: string,
    latest: StoredSnapshot | null,
    private readonly options: FileSnapshotStoreOptions,
  ) {
    this.#latest = latest;
  }

  load(): StoredSnapshot | null {
    return this.#latest;
  }

  save(meta: SnapshotMeta, chunks: SnapshotChunks, done: (err: Error | null) => void): void {
    this.#queue = this.#queue.then(async () => {
      if (this.#failure !== null) return done(this.#failure);
      if (this.#latest !== null && this.#latest.meta.index >= meta.index) return done(null);
      const t0 = performance.now();
      try {
        const bytes = await this.#writeAtomically(snapshotFileName(meta), meta, chunks);
        const older = this.#latest;
        this.#latest = { meta, chunks };
        if (older !== null) await rm(join(this.dir, snapshotFileName(older.meta)), { force: true });
        this.options.onSaved?.(meta, bytes, performance.now() - t0);
      } catch (err) {
        this.#failure = new SnapshotError(
          SnapshotErrorCode.WriteFailed,
          `cannot save snapshot ${snapshotFileName(meta)} in ${this.dir}: ${(err as Error).message}`,
          { cause: err },
        );
        return done(this.#failure);
      }
      done(null);
    });
  }

  receive(meta: SnapshotMeta, total: number): SnapshotSink {
    // Chunks need not survive a crash (a restarted receiver starts over), so they collect in memory
    // (as they came: one large buffer would stall the event loop on a big heap) and reach the disk
    // once, through the same atomic save as a local snapshot.
    const chunks: Uint8Array[] = [];
    let written = 0;
    let aborted = false;
    return {
      write: (offset, data) => {
        if (aborted) return;
        if (offset !== written || offset + data.length > total) {
          throw new SnapshotError(
            SnapshotErrorCode.InvalidArgument,
            `snapshot chunk at ${offset} (+${data.length}) does not continue ${written} of ${total} bytes`,
          );
        }
        chunks.push(data); // ours to keep (SnapshotSink.write)
        written += data.length;
      },
      finish: (done) => {
        if (aborted) return done(new SnapshotError(SnapshotErrorCode.InvalidArgument, 'finish after abort'));
        if (written !== total) {
          return done(
            new SnapshotError(SnapshotErrorCode.InvalidArgument, `finish after ${written} of ${total} bytes`),
          );
        }
        this.save(meta, chunks, done);
      },
      abort: () => {
        aborted = true;
      },
    };
  }

  /** Waits for pending saves (for a clean shutdown). */
  async close(): Promise<void> {
    await this.#queue;
  }

  /**
   * Writes `<name>.tmp` (the same bytes as encodeSnapshotFile, streamed: the data is checksummed
   * and written a chunk at a time, never copied whole), fsyncs it, renames it into place and
   * fsyncs the directory. Returns the file's size.
   */
  async #writeAtomically(name: string, meta: SnapshotMeta, chunks: SnapshotChunks): Promise<number> {
    const path = join(this.dir, name);
    const tmp = `${path}.tmp`;
    const length = chunksLength(chunks);
    const head = encodeHead(meta, length);
    let crc = crc32c(head);
    const fh = await open(tmp, 'w');
    const writeAll = async (bytes: Uint8Array): Promise<void> => {
      let off = 0;
      while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
    };
    try {
      await writeAll(head);
      for (const data of chunks) {
        for (let off = 0; off < data.length; off += SAVE_CHUNK) {
          const chunk = data.subarray(off, Math.min(data.length, off + SAVE_CHUNK));
          crc = crc32c(chunk, crc);
          await writeAll(chunk);
        }
      }
      await writeAll(u32le(crc));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    const d = await open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    return head.length + length + 4;
  }
}
