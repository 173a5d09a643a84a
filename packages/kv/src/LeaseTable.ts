/**
 * The replicated lease table: each lease's TTL and the keys attached to it. No deadline lives here
 * (the state machine never reads a clock): the leader keeps those and proposes `leaseExpire`.
 *
 * Ids come from a counter in the state (`lastId`), so every member issues the same id at the same
 * entry, and a snapshot carries the counter: an id is never issued twice.
 */
export interface LeaseEntry {
  readonly ttlSeconds: number;
  /** Attached keys, by their binary string (`keyString`). */
  readonly keys: Set<string>;
}

/** What the member's lease timers hear about: a lease that now exists, or one that is gone. */
export interface LeaseListener {
  granted(id: number, ttlSeconds: number): void;
  removed(id: number): void;
  /** The whole table was replaced (a snapshot restore): re-read it. */
  reset(): void;
}

export class LeaseTable {
  readonly byId = new Map<number, LeaseEntry>();
  constructor(
    /** The last id issued (0: none yet). */
    public lastId = 0,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  grant(ttlSeconds: number): number {
    const id = ++this.lastId;
    this.byId.set(id, { ttlSeconds, keys: new Set() });
    return id;
  }

  /** Moves `ks` from lease `from` to lease `to` (0: none). */
  move(ks: string, from: number, to: number): void {
    if (from === to) return;
    if (from !== 0) this.byId.get(from)?.keys.delete(ks);
    if (to !== 0) this.byId.get(to)?.keys.add(ks);
  }
}
