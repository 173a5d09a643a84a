/**
 * The files behind segments: the next segment's file is made ready in the background so a
 * rotation never waits, and a segment freed by compaction gives its file to a later one
 * (recycling) or is deleted. Each change of a name is made durable with a directory fsync.
 */
import { join } from 'node:path';
import type { Counters } from './counters.js';
import { close, fstatSize, fsync, O_DSYNC, open, rename, segmentFlags, unlink, writeAll } from './fileIo.js';
import { PREPARED_SUFFIX } from './recovery.js';
import type { Segment } from './Segment.js';
import type { WalLogger } from './types.js';

const ZEROS = Buffer.alloc(1024 * 1024);

/** Recycled files kept waiting for a rotation; more are deleted. */
const MAX_SPARES = 2;

/** A file ready to become the next segment: zero-filled, or recycled from a compacted segment. */
interface Prepared {
  readonly path: string;
  readonly fd: number;
  readonly size: number;
  /** `fd` was opened with O_DSYNC. */
  readonly dsync: boolean;
}

export interface SegmentFilesOptions {
  readonly dir: string;
  readonly dirFd: number;
  readonly segmentSize: number;
  readonly preallocate: boolean;
  /** Open segment files with O_DSYNC (where the platform has it): WalOptions.dsync. */
  readonly dsync: boolean;
  readonly counters: Counters;
  readonly logger: WalLogger | undefined;
}

export class SegmentFiles {
  readonly #dir: string;
  readonly #dirFd: number;
  readonly #segmentSize: number;
  readonly #preallocate: boolean;
  readonly #dsync: boolean;
  readonly #counters: Counters;
  readonly #logger: WalLogger | undefined;
  #prepared: Promise<Prepared> | null = null;
  #prepCounter = 0;
  /** Files of segments freed by compaction, renamed to `*.prep`, waiting to become a new segment. */
  #spares: string[] = [];
  #closing = false;

  constructor(o: SegmentFilesOptions) {
    this.#dir = o.dir;
    this.#dirFd = o.dirFd;
    this.#segmentSize = o.segmentSize;
    this.#preallocate = o.preallocate;
    this.#dsync = o.dsync && O_DSYNC !== null;
    this.#counters = o.counters;
    this.#logger = o.logger;
  }

  /**
   * Gets the next segment's file ready in the background so a rotation never waits: a file freed by
   * compaction when there is one (recycling: its old records carry another salt and never validate
   * here, and its blocks are already allocated), else a new file zero-filled and fsynced. A fill
   * in progress gives way as soon as compaction frees a file: the fill doubles the bytes the disk
   * takes and its flush competes with the commits' fdatasyncs.
   */
  startPrepare(): void {
    if (!this.#preallocate || this.#closing || this.#prepared !== null) return;
    const p = this.#prepare();
    p.catch(() => {});
    this.#prepared = p;
  }

  /** Resolves once the preparation running now (if any) has finished or failed. */
  prepared(): Promise<void> {
    const p = this.#prepared;
    return p === null
      ? Promise.resolve()
      : p.then(
          () => {},
          () => {},
        );
  }

  async #prepare(): Promise<Prepared> {
    const spare = this.#spares.shift();
    if (spare !== undefined) {
      const fd = await open(spare, segmentFlags('r+', this.#dsync));
      try {
        const size = await fstatSize(fd);
        this.#counters.recycled++;
        return { path: spare, fd, size, dsync: this.#dsync };
      } catch (err) {
        await close(fd);
        throw err;
      }
    }
    const path = join(this.#dir, `next-${process.pid}-${this.#prepCounter++}${PREPARED_SUFFIX}`);
    const size = this.#segmentSize;
    const fd = await open(path, 'w+');
    let abandoned = false;
    try {
      for (let off = 0; off < size; off += ZEROS.length) {
        if (this.#spares.length > 0 && !this.#closing) {
          abandoned = true;
          break;
        }
        await writeAll(fd, ZEROS, Math.min(ZEROS.length, size - off), off);
      }
      if (!abandoned) {
        await fsync(fd);
        this.#counters.zeroFilled++;
        // The fill went through the page cache (one fsync at the end); the segment's own writes
        // go through an O_DSYNC descriptor, opened on the same file.
        if (!this.#dsync) return { path, fd, size, dsync: false };
        const dfd = await open(path, segmentFlags('r+', true));
        await close(fd);
        return { path, fd: dfd, size, dsync: true };
      }
    } catch (err) {
      await close(fd);
      await unlink(path).catch(() => {});
      this.#logger?.warn({ err, file: path }, 'WAL: could not preallocate the next segment');
      throw err;
    }
    await close(fd);
    await unlink(path).catch(() => {});
    return this.#prepare();
  }

  /**
   * Creates `seg`'s file under its name: the prepared file renamed, else (no preallocation, or it
   * failed) a new empty file. The name is durable only after the caller's directory fsync.
   */
  async materialize(seg: Segment): Promise<void> {
    const prep = this.#prepared;
    this.#prepared = null;
    const ready = prep ? await prep.catch(() => null) : null;
    if (ready !== null) {
      await rename(ready.path, seg.path);
      seg.fd = ready.fd;
      seg.dsync = ready.dsync;
      seg.allocated = ready.size;
    } else {
      seg.fd = await open(seg.path, segmentFlags('wx+', this.#dsync));
      seg.dsync = this.#dsync;
    }
    this.startPrepare();
  }

  /**
   * Removes the file of `seg` (compacted away, descriptors closed): recycles it (its blocks are
   * allocated: no zero-fill for the next segment) or deletes it. Either way its name goes, made
   * durable before this resolves: a gap in sequence numbers after a power loss would look like a
   * lost segment, so callers retire segments one at a time, oldest first.
   */
  async retire(seg: Segment): Promise<void> {
    const recycle =
      this.#preallocate &&
      !this.#closing &&
      this.#spares.length < MAX_SPARES &&
      Math.max(seg.allocated, seg.writtenBytes) >= this.#segmentSize;
    const spare = join(this.#dir, `recycled-${process.pid}-${this.#prepCounter++}${PREPARED_SUFFIX}`);
    if (recycle) await rename(seg.path, spare);
    else await unlink(seg.path);
    await fsync(this.#dirFd);
    this.#counters.dirSyncs++;
    if (recycle) this.#spares.push(spare);
    this.#logger?.info(
      { file: seg.path, recycled: recycle },
      recycle
        ? 'WAL: recycled a segment covered by a snapshot'
        : 'WAL: deleted a segment covered by a snapshot',
    );
  }

  /** From now on nothing new is prepared or recycled (the store is closing). */
  beginClose(): void {
    this.#closing = true;
  }

  /** Removes the prepared file and the spares (after beginClose, once no commit runs). */
  async close(): Promise<void> {
    const prep = this.#prepared;
    this.#prepared = null;
    if (prep) {
      const p = await prep.catch(() => null);
      if (p) {
        await close(p.fd);
        await unlink(p.path).catch(() => {});
      }
    }
    for (const spare of this.#spares.splice(0)) await unlink(spare).catch(() => {});
  }
}
