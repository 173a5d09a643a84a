/**
 * A snapshot's bytes as a sequence of chunks, read in order. A large snapshot is never one
 * allocation: V8 answers one big external allocation on a large heap with a stop-the-world
 * mark-compact of the whole heap (hundreds of milliseconds on a store of a million keys), where
 * the same bytes allocated a chunk at a time let it mark incrementally alongside.
 */
export type SnapshotChunks = readonly Uint8Array[];

/** What a state machine may hand over as a snapshot: one buffer or its chunks in order. */
export type SnapshotBytes = Uint8Array | SnapshotChunks;

/** The chunks of `bytes` (one chunk for a single buffer). */
export function toChunks(bytes: SnapshotBytes): SnapshotChunks {
  return bytes instanceof Uint8Array ? [bytes] : bytes;
}

/** Total length of `chunks` in bytes. */
export function chunksLength(chunks: SnapshotChunks): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

/**
 * The bytes as one buffer (restoring a state machine needs them contiguous). A single chunk is
 * returned as is, not copied.
 */
export function concatChunks(chunks: SnapshotChunks): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunksLength(chunks));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Random access to ranges of a chunk sequence (sending it in pieces of another size). A range
 * within one chunk is a view of it; a range across chunks is copied.
 */
export class ChunkReader {
  /** starts[i]: offset of chunks[i]; the last element is the total. */
  private readonly starts: number[];

  constructor(private readonly chunks: SnapshotChunks) {
    this.starts = new Array<number>(chunks.length + 1);
    let at = 0;
    for (let i = 0; i < chunks.length; i++) {
      this.starts[i] = at;
      at += chunks[i]!.length;
    }
    this.starts[chunks.length] = at;
  }

  get length(): number {
    return this.starts[this.chunks.length]!;
  }

  /** Bytes [start, end), with 0 <= start <= end <= length. */
  slice(start: number, end: number): Uint8Array {
    if (start < 0 || end < start || end > this.length) {
      throw new RangeError(`range [${start}, ${end}) outside 0..${this.length}`);
    }
    if (start === end) return new Uint8Array(0);
    let i = this.chunkAt(start);
    const first = this.chunks[i]!;
    const from = start - this.starts[i]!;
    if (end <= this.starts[i + 1]!) return first.subarray(from, end - this.starts[i]!);
    const out = new Uint8Array(end - start);
    let at = 0;
    for (let pos = start; pos < end; i++) {
      const c = this.chunks[i]!;
      const lo = pos - this.starts[i]!;
      const hi = Math.min(c.length, end - this.starts[i]!);
      out.set(c.subarray(lo, hi), at);
      at += hi - lo;
      pos += hi - lo;
    }
    return out;
  }

  /** Index of the non-empty chunk holding byte `pos` (pos < length). */
  private chunkAt(pos: number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    // Skip empty chunks that start at pos too.
    while (this.starts[lo + 1]! <= pos) lo++;
    return lo;
  }
}
