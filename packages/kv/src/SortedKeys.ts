/**
 * The ordered index behind scans: distinct strings in ascending order, kept as a list of sorted
 * chunks of at most `CHUNK_MAX` strings each (the layout of Python's `sortedcontainers`). Finding a
 * key is two binary searches; inserting or removing one moves at most one chunk's worth of slots,
 * instead of half the keyspace for one flat sorted array.
 *
 * Keys are byte strings stored as "binary" strings (one char per byte, see `keyString`): JavaScript
 * compares strings by UTF-16 code units, which for chars 0-255 is exactly byte-wise lexicographic
 * order, with a proper prefix sorting first.
 */
const CHUNK_MAX = 1024;
const CHUNK_HALF = CHUNK_MAX >>> 1;

/** The index of the first element of `arr` that is `>= key` (or `> key` when `exclusive`). */
function bound(arr: readonly string[], key: string, exclusive: boolean): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = arr[mid]!;
    if (v < key || (exclusive && v === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SortedKeys {
  private chunks: string[][] = [];
  /** The last (largest) key of each chunk, for the first binary search. */
  private maxes: string[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `key`; returns false (and changes nothing) when it is already present. */
  insert(key: string): boolean {
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
      this.maxes.push(key);
      this.count = 1;
      return true;
    }
    let c = bound(this.maxes, key, false);
    if (c === this.maxes.length) c--; // larger than every key: goes at the end of the last chunk
    const chunk = this.chunks[c]!;
    const i = bound(chunk, key, false);
    if (chunk[i] === key) return false;
    chunk.splice(i, 0, key);
    if (i === chunk.length - 1) this.maxes[c] = key;
    this.count++;
    if (chunk.length > CHUNK_MAX) {
      const tail = chunk.splice(CHUNK_HALF);
      this.chunks.splice(c + 1, 0, tail);
      this.maxes.splice(c, 1, chunk[chunk.length - 1]!, tail[tail.length - 1]!);
    }
    return true;
  }

  /** Removes `key`; returns false when it was not present. */
  delete(key: string): boolean {
    const c = bound(this.maxes, key, false);
    if (c === this.maxes.length) return false;
    const chunk = this.chunks[c]!;
    const i = bound(chunk, key, false);
    if (chunk[i] !== key) return false;
    chunk.splice(i, 1);
    this.count--;
    if (chunk.length === 0) {
      this.chunks.splice(c, 1);
      this.maxes.splice(c, 1);
    } else if (i === chunk.length) {
      this.maxes[c] = chunk[chunk.length - 1]!;
    }
    return true;
  }

  /**
   * Calls `visit` for each key from `from` (inclusive, or exclusive when `fromExclusive`) up to
   * `to` (exclusive; null = no upper bound), in ascending order, until `visit` returns false.
   */
  forEachInRange(
    from: string,
    fromExclusive: boolean,
    to: string | null,
    visit: (key: string) => boolean,
  ): void {
    const chunks = this.chunks;
    let c = bound(this.maxes, from, fromExclusive);
    if (c === chunks.length) return;
    let i = bound(chunks[c]!, from, fromExclusive);
    for (; c < chunks.length; c++, i = 0) {
      const chunk = chunks[c]!;
      for (; i < chunk.length; i++) {
        const key = chunk[i]!;
        if (to !== null && key >= to) return;
        if (!visit(key)) return;
      }
    }
  }

  /**
   * The keys as of now, in ascending order, as copies of the internal chunks: cheap (no per-key
   * work beyond copying references) and unaffected by later inserts and deletes.
   */
  frozenChunks(): string[][] {
    return this.chunks.map((c) => c.slice());
  }

  /** Every key in ascending order. */
  *keys(): IterableIterator<string> {
    for (const chunk of this.chunks) yield* chunk;
  }

  /** Rebuilds the index from keys already in strictly ascending order (restoring a snapshot). */
  static fromSorted(keys: readonly string[]): SortedKeys {
    const s = new SortedKeys();
    for (let i = 0; i < keys.length; i += CHUNK_HALF) {
      const chunk = keys.slice(i, i + CHUNK_HALF);
      s.chunks.push(chunk);
      s.maxes.push(chunk[chunk.length - 1]!);
    }
    s.count = keys.length;
    return s;
  }
}

const CHUNK_CHARS = 4096;

/** A byte string as a "binary" string: char i is byte i (so string order is byte order). */
export function keyString(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n <= 32) {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  let s = '';
  for (let i = 0; i < n; i += CHUNK_CHARS) {
    s += String.fromCharCode(...bytes.subarray(i, i + CHUNK_CHARS));
  }
  return s;
}

/** The inverse of `keyString`. */
export function keyBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The smallest key greater than every key starting with `prefix`, or null if there is none (all 0xff). */
export function prefixEnd(prefix: string): string | null {
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === 0xff) end--;
  if (end === 0) return null;
  return prefix.slice(0, end - 1) + String.fromCharCode(prefix.charCodeAt(end - 1) + 1);
}
