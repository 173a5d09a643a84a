/**
 * Where every live entry is and what its term is, for the whole log: term() answers from here
 * without I/O, and cold reads find their record by (segment, offset). Three parallel typed arrays
 * with a movable head, so appends, suffix truncation and prefix compaction cost O(1) amortized.
 */
export class LogIndex {
  /** Index of the first live entry. */
  first = 1;
  /** Term of first - 1 (the compaction point; 0 for a fresh log). */
  firstTerm = 0;
  #head = 0;
  #len = 0;
  #terms = new Float64Array(1024);
  /** Segment sequence number; 0 marks an entry known to exist but not held by any segment. */
  #segs = new Uint32Array(1024);
  #offs = new Float64Array(1024);

  get last(): number {
    return this.first + this.#len - 1;
  }

  get length(): number {
    return this.#len;
  }

  term(index: number): number {
    if (index === this.first - 1) return this.firstTerm;
    const at = index - this.first;
    if (at < 0 || at >= this.#len) return -1;
    return this.#terms[this.#head + at]!;
  }

  /** Segment holding `index` (which must be live). */
  seg(index: number): number {
    return this.#segs[this.#head + index - this.first]!;
  }

  offset(index: number): number {
    return this.#offs[this.#head + index - this.first]!;
  }

  /** Drops `index` and everything after it (index in [first, last + 1]). */
  truncateFrom(index: number): void {
    const keep = index - this.first;
    if (keep < this.#len) this.#len = Math.max(0, keep);
  }

  /** Makes room for `n` more pushes without growing in between. */
  reserve(n: number): void {
    while (this.#head + this.#len + n > this.#terms.length) this.#grow();
  }

  push(term: number, seg: number, offset: number): void {
    let p = this.#head + this.#len;
    if (p === this.#terms.length) {
      this.#grow();
      p = this.#head + this.#len;
    }
    this.#terms[p] = term;
    this.#segs[p] = seg;
    this.#offs[p] = offset;
    this.#len++;
  }

  /**
   * Figure 13, steps 6-7: if the log holds `index` with `term`, keep what follows it; otherwise
   * drop everything and restart after `index`. Returns whether the suffix was kept, which the
   * Compact record stores: replay applies that decision, since it may not know the term at `index`
   * (the segment holding it can already be gone).
   */
  compact(index: number, term: number): boolean {
    if (index < this.first) return true;
    const keep = index <= this.last && this.term(index) === term;
    this.applyCompact(index, term, keep);
    return keep;
  }

  /** Drops everything up to `index` and, unless `keepSuffix`, everything after it too. */
  applyCompact(index: number, term: number, keepSuffix: boolean): void {
    if (index < this.first) return;
    if (keepSuffix && index <= this.last) {
      const drop = index - this.first + 1;
      this.#head += drop;
      this.#len -= drop;
    } else {
      this.#head = 0;
      this.#len = 0;
    }
    this.first = index + 1;
    this.firstTerm = term;
  }

  /** Empties the log; the next entry is `first`. */
  reset(first: number, firstTerm: number): void {
    this.#head = 0;
    this.#len = 0;
    this.first = first;
    this.firstTerm = firstTerm;
  }

  /** The first live index not held by any segment, or -1. */
  firstMissing(): number {
    for (let i = 0; i < this.#len; i++) if (this.#segs[this.#head + i] === 0) return this.first + i;
    return -1;
  }

  #grow(): void {
    if (this.#head > 0 && this.#head >= this.#len) {
      // Mostly dead head after compaction: slide down instead of growing.
      this.#terms.copyWithin(0, this.#head, this.#head + this.#len);
      this.#segs.copyWithin(0, this.#head, this.#head + this.#len);
      this.#offs.copyWithin(0, this.#head, this.#head + this.#len);
      this.#head = 0;
      return;
    }
    const cap = this.#terms.length * 2;
    const terms = new Float64Array(cap);
    terms.set(this.#terms.subarray(this.#head, this.#head + this.#len));
    const segs = new Uint32Array(cap);
    segs.set(this.#segs.subarray(this.#head, this.#head + this.#len));
    const offs = new Float64Array(cap);
    offs.set(this.#offs.subarray(this.#head, this.#head + this.#len));
    this.#terms = terms;
    this.#segs = segs;
    this.#offs = offs;
    this.#head = 0;
  }
}
