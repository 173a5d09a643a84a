import { ErrorCode, KeelError } from '../raft/errors.js';
import { takeWithinBytes } from '../raft/storage.js';
import type { Entry, HardState } from '../raft/types.js';
import type { LogStore } from '../runtime/interfaces.js';

export interface MemoryLogStoreOptions {
  /**
   * When appends (and compactions) become durable and their callbacks fire:
   * - a function: every append schedules its own completion through it (e.g. a Scheduler's defer,
   *   or virtual time in the simulator);
   * - `'manual'`: only when sync() is called (a harness or a hand-driven test owns the "fsync");
   * - absent: on its own, in a microtask after the append — so a `RaftNode` over a bare
   *   `new MemoryLogStore()` works — until the store is driven by hand: the first call to sync()
   *   switches it to `'manual'` for good (and crash() then returns a `'manual'` store), so a
   *   harness that syncs before yielding to the event loop (the simulator's disk; the engine
   *   tests) keeps full control of what is durable. A harness that yields first should say
   *   `'manual'`.
   */
  schedule?: ((fn: () => void) => void) | 'manual';
  /** Initial durable content (used by crash()). */
  initial?: {
    hardState: HardState;
    entries: readonly Entry[];
    /** Index of `entries[0]` (default 1; snapshot index + 1 after compaction). */
    firstIndex?: number;
    /** Term of `firstIndex - 1`, the compaction point (default 0). */
    firstTerm?: number;
  };
}

const EMPTY_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

/** One view of the log: the live one that reads see, or the durable one that survives crash(). */
interface LogImage {
  entries: Entry[];
  /** Index of entries[0]. */
  first: number;
  /** Term of first - 1. */
  firstTerm: number;
  hardState: HardState;
}

type PendingOp =
  | {
      readonly kind: 'append';
      readonly seq: number;
      readonly entries: readonly Entry[];
      readonly hardState: HardState | null;
      readonly onDurable: (err: Error | null) => void;
    }
  | {
      readonly kind: 'compact';
      readonly seq: number;
      readonly index: number;
      readonly term: number;
      readonly onDurable: ((err: Error | null) => void) | undefined;
    };

function applyAppend(img: LogImage, entries: readonly Entry[], hardState: HardState | null): void {
  if (entries.length > 0) {
    // Truncate a conflicting suffix first: setting length drops the tail without copying the log.
    const at = entries[0]!.index - img.first;
    if (at < img.entries.length) img.entries.length = at;
    for (let i = 0; i < entries.length; i++) img.entries.push(entries[i]!);
  }
  if (hardState !== null) img.hardState = hardState;
}

/**
 * Figure 13, steps 6-7: when the log holds `index` with `term`, keep the suffix after it; otherwise
 * the whole log is superseded by the snapshot.
 */
function applyCompact(img: LogImage, index: number, term: number): void {
  if (index < img.first) return;
  const at = index - img.first;
  if (at < img.entries.length && img.entries[at]!.term === term) {
    img.entries.splice(0, at + 1);
  } else {
    img.entries.length = 0;
  }
  img.first = index + 1;
  img.firstTerm = term;
}

function storageFailed(message: string, cause?: unknown): KeelError {
  return new KeelError(ErrorCode.StorageFailed, message, cause === undefined ? undefined : { cause });
}

/**
 * An in-memory LogStore for the deterministic simulator and for tests. Reads see every append at
 * once; a separate durable image advances only when an append is made durable (sync() or a
 * scheduled completion), so crash() loses exactly what a power loss would. Entries are kept by
 * reference (callers must not mutate them) and each append costs O(its entries), never O(log).
 */
export class MemoryLogStore implements LogStore {
  readonly #schedule: ((fn: () => void) => void) | undefined;
  /** No schedule given and not yet driven by hand: completions run in a microtask. */
  #auto: boolean;
  readonly #live: LogImage;
  readonly #durable: LogImage;
  #pending: PendingOp[] = [];
  #pendingHead = 0;
  #pendingAppends = 0;
  #seq = 0;
  #failNext = false;
  #failure: Error | null = null;
  #closed = false;

  constructor(opts: MemoryLogStoreOptions = {}) {
    this.#schedule = typeof opts.schedule === 'function' ? opts.schedule : undefined;
    this.#auto = opts.schedule === undefined;
    const init = opts.initial;
    const first = init?.firstIndex ?? 1;
    const firstTerm = init?.firstTerm ?? 0;
    const hardState = init?.hardState ?? EMPTY_HARD_STATE;
    const entries = init ? init.entries.slice() : [];
    for (let i = 0; i < entries.length; i++) {
      if (entries[i]!.index !== first + i) {
        throw new KeelError(ErrorCode.InvalidArgument, `initial entries are not contiguous from ${first}`);
      }
    }
    this.#live = { entries, first, firstTerm, hardState };
    this.#durable = { entries: entries.slice(), first, firstTerm, hardState };
  }

  initialState(): { readonly hardState: HardState } {
    return { hardState: this.#live.hardState };
  }

  firstIndex(): number {
    return this.#live.first;
  }

  lastIndex(): number {
    return this.#live.first + this.#live.entries.length - 1;
  }

  term(index: number): number {
    const img = this.#live;
    if (index === img.first - 1) return img.firstTerm;
    const at = index - img.first;
    if (at < 0 || at >= img.entries.length) return -1;
    return img.entries[at]!.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const img = this.#live;
    const last = img.first + img.entries.length - 1;
    if (lo < img.first || hi > last + 1 || lo > hi) {
      throw new KeelError(
        ErrorCode.InvalidArgument,
        `entries(${lo}, ${hi}) outside [${img.first}, ${last + 1}]`,
      );
    }
    return takeWithinBytes([], 0, lo, hi, maxBytes, (i) => img.entries[i - img.first]);
  }

  append(
    entries: readonly Entry[],
    hardState: HardState | null,
    onDurable: (err: Error | null) => void,
  ): void {
    if (this.#closed) throw storageFailed('append on a closed MemoryLogStore');
    const seq = ++this.#seq;
    // After a failure nothing more is accepted: the op carries only its callback, which gets the error.
    if (this.#failure === null) {
      this.#validate(entries);
      applyAppend(this.#live, entries, hardState);
    }
    this.#pending.push({ kind: 'append', seq, entries, hardState, onDurable });
    this.#pendingAppends++;
    this.#scheduleCompletion(seq);
  }

  /**
   * Discards entries up to `index` (a snapshot covers them); `term` is the term at `index`. When the
   * log does not hold `index` with `term`, everything is discarded and the log restarts at index + 1.
   * Becomes durable with the next completion, like an append; `onDurable` then fires in call order.
   */
  compact(index: number, term: number, onDurable?: (err: Error | null) => void): void {
    if (this.#closed) throw storageFailed('compact on a closed MemoryLogStore');
    const seq = ++this.#seq;
    if (this.#failure === null) applyCompact(this.#live, index, term);
    this.#pending.push({ kind: 'compact', seq, index, term, onDurable });
    this.#scheduleCompletion(seq);
  }

  /** What survives a crash right now: the term at `index` in the durable image (-1 if absent). */
  durableTerm(index: number): number {
    const img = this.#durable;
    if (index === img.first - 1) return img.firstTerm;
    const at = index - img.first;
    if (at < 0 || at >= img.entries.length) return -1;
    return img.entries[at]!.term;
  }

  /** First index of the durable image. */
  durableFirstIndex(): number {
    return this.#durable.first;
  }

  /** Makes every pending append durable and fires their callbacks in call order (one "fsync"). */
  sync(): void {
    this.#auto = false;
    this.#flushThrough(this.#seq);
  }

  /** Number of appends not yet durable. */
  get pendingCount(): number {
    return this.#pendingAppends;
  }

  /** A new store holding exactly what was durable (what survives a power loss): pending appends are lost. */
  crash(): MemoryLogStore {
    // The successor completes the way this store did; this store's pending appends were lost with
    // the crash, so they must never complete on their own afterwards.
    const schedule = this.#schedule ?? (this.#auto ? undefined : 'manual');
    this.#auto = false;
    const d = this.#durable;
    const initial = {
      hardState: d.hardState,
      entries: d.entries,
      firstIndex: d.first,
      firstTerm: d.firstTerm,
    };
    return new MemoryLogStore(schedule === undefined ? { initial } : { initial, schedule });
  }

  /**
   * Test hook: the next sync() fails: its callbacks get an Error with code 'KEEL_STORAGE_FAILED' and
   * the store is failed (fatal; later appends' callbacks get the error too).
   */
  failNextSync(): void {
    this.#failNext = true;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flushThrough(this.#seq);
    this.#closed = true;
  }

  #validate(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const last = this.lastIndex();
    if (first > last + 1 || first < this.#live.first) {
      throw new KeelError(
        ErrorCode.InvalidArgument,
        `append at ${first} outside [${this.#live.first}, ${last + 1}]`,
      );
    }
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.index !== first + i) {
        throw new KeelError(ErrorCode.InvalidArgument, `append entries are not contiguous at ${first + i}`);
      }
    }
  }

  #scheduleCompletion(seq: number): void {
    if (this.#schedule) this.#schedule(() => this.#flushThrough(seq));
    else if (this.#auto) {
      queueMicrotask(() => {
        if (this.#auto) this.#flushThrough(seq);
      });
    }
  }

  /** One "fsync" covering every op up to `seq`; callbacks run after the store's state is settled. */
  #flushThrough(seq: number): void {
    const ops = this.#pending;
    let end = this.#pendingHead;
    while (end < ops.length && ops[end]!.seq <= seq) end++;
    if (end === this.#pendingHead) return;
    const start = this.#pendingHead;
    if (end === ops.length) {
      this.#pending = [];
      this.#pendingHead = 0;
    } else if (end > 1024 && end * 2 > ops.length) {
      // Drop the consumed head now and then so a queue that never drains stays small.
      this.#pending = ops.slice(end);
      this.#pendingHead = 0;
    } else {
      this.#pendingHead = end;
    }
    if (this.#failure === null && this.#failNext) {
      this.#failNext = false;
      this.#failure = storageFailed('simulated fsync failure (failNextSync)');
    }
    const err = this.#failure;
    const callbacks: Array<(err: Error | null) => void> = [];
    for (let i = start; i < end; i++) {
      const op = ops[i]!;
      if (op.kind === 'append') {
        this.#pendingAppends--;
        if (err === null) applyAppend(this.#durable, op.entries, op.hardState);
        callbacks.push(op.onDurable);
      } else {
        if (err === null) applyCompact(this.#durable, op.index, op.term);
        if (op.onDurable !== undefined) callbacks.push(op.onDurable);
      }
    }
    for (const cb of callbacks) cb(err);
  }
}
