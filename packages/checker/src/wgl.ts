import { isTxn, type Operation, type Value } from './history.js';
import { stepOperation } from './model.js';

/**
 * The Wing & Gong linearizability search with Lowe's improvements, for the operations on one key.
 *
 * The history is a doubly linked list of call and return events in time order. The search walks
 * it from the front: at a call it tries to linearize that operation now (the model must accept
 * it), lifting its call and return out of the list and restarting from the front; at a return it
 * has reached an operation that had to be linearized already, so it backtracks to the most recent
 * choice. Lowe's memoization (also in Porcupine) keeps every configuration — the set of
 * linearized operations and the model state — already explored: reaching one again cannot lead
 * anywhere new, so that branch is cut. This turns the factorial worst case into roughly the
 * number of distinct configurations, about n·2^c for c concurrent clients.
 *
 * Operations with an unknown outcome are optional: they have no return event (their interval is
 * open to +∞), and the search succeeds once every operation that did return is placed. Leaving
 * one out is the same as placing it after everything else, where nothing can observe it. Left as
 * they are, k pending optional operations multiply the configurations by 2^k, which is what makes
 * plain WGL hopeless on histories with many timeouts. Two refinements keep that in check:
 *
 * - Dominance instead of equality in the memo: a configuration with the same placed required
 *   operations and the same state as an explored one, but a superset of its placed optional ones,
 *   has only fewer ways to continue; it is cut. (Also when the dominating configuration is an
 *   ancestor still being explored: it will try every continuation the dominated one has.)
 * - Order of trial per configuration: first reads (see below), then required operations, then
 *   optional ones, so the configurations that leave optional operations unplaced are explored —
 *   and memoized — before the ones that place them.
 *
 * Reads — gets, and compare-and-swaps that reported failure — never change the state. If one is
 * a candidate and fits the state, some linearization (if any exists) places it next: moving it to
 * the front breaks no real-time order (nothing unplaced had to precede it, or the scan would have
 * met that return first) and changes no state. So it is placed without trying alternatives, and
 * if that fails, so does the configuration. Reads are most of a typical history, and this keeps
 * the subsets of concurrent reads out of the search space.
 */

/**
 * The sequential object the search linearizes against: one key's register, or a group of keys
 * (`component.ts`). `S` is its state.
 */
export interface SearchModel<S> {
  /** The state after `o` with its recorded outcome, or `undefined` if `o` cannot take effect on `state`. */
  step(state: S, o: Operation): S | undefined;
  /** Equal states, and only they, have equal ids (the memo compares ids). */
  id(state: S): Value;
  /** `o`, with its recorded outcome, never changes the state (placed eagerly; see above). */
  isRead(o: Operation): boolean;
  /** `o` writes without reading anything (a put, a delete, a transaction of only those). */
  isBlind(o: Operation): boolean;
  /**
   * Blind write `later` overwrites everything blind write `earlier` writes, so placed right after
   * it, it hides it: placing `earlier` there was pointless.
   */
  hides(later: Operation, earlier: Operation): boolean;
}

/** One key's register (model.ts). */
export const registerModel: SearchModel<Value> = {
  step: stepOperation,
  id: (state) => state,
  isRead: (o) =>
    o.op.kind === 'get' || (o.op.kind === 'cas' && o.outcome.status === 'ok' && !o.outcome.result),
  isBlind: (o) => o.op.kind === 'put' || o.op.kind === 'delete',
  hides: () => true,
};

export interface SearchOp {
  readonly op: Operation;
  readonly call: number;
  /** `Infinity` when the outcome is unknown. */
  readonly ret: number;
}

/** Shared by every key of one check; `steps` counts down. */
export interface Budget {
  steps: number;
  readonly deadline: number | undefined;
  readonly clock: (() => number) | undefined;
}

export type UnknownReason = 'step-budget' | 'deadline';

export type SearchResult =
  | { readonly kind: 'ok'; readonly steps: number }
  | {
      readonly kind: 'violation';
      readonly steps: number;
      /** Indexes into the input, in linearization order: the deepest dead end the search reached. */
      readonly prefix: readonly number[];
      /** The operation whose return the search hit at that dead end. */
      readonly unplaceable: number;
      /** Every unplaced operation invoked before that return, `unplaceable` included. */
      readonly candidates: readonly number[];
    }
  | { readonly kind: 'unknown'; readonly steps: number; readonly reason: UnknownReason };

const HEAD = 0;
const CLOCK_EVERY = 4096;

export function search<S>(
  ops: readonly SearchOp[],
  initial: S,
  budget: Budget,
  model: SearchModel<S>,
): SearchResult {
  const n = ops.length;

  // Events as op index * 2 (+1 for the return). At equal times calls sort before returns, so
  // touching intervals are concurrent; ties are then broken by input order, for determinism.
  const events: number[] = [];
  let required = 0;
  for (let i = 0; i < n; i++) {
    events.push(i * 2);
    if (ops[i]!.ret !== Infinity) {
      events.push(i * 2 + 1);
      required++;
    }
  }
  if (required === 0) return { kind: 'ok', steps: 0 };
  const timeOf = (e: number): number => ((e & 1) === 0 ? ops[e >> 1]!.call : ops[e >> 1]!.ret);
  events.sort((a, b) => timeOf(a) - timeOf(b) || (a & 1) - (b & 1) || a - b);

  // Node 0 is the head of a circular list; nodes 1..m are the events in order.
  const m = events.length;
  const next = new Int32Array(m + 1);
  const prev = new Int32Array(m + 1);
  const nodeOp = new Int32Array(m + 1);
  const isCall = new Uint8Array(m + 1);
  const returnNode = new Int32Array(n); // 0: no return event
  for (let k = 1; k <= m; k++) {
    const e = events[k - 1]!;
    nodeOp[k] = e >> 1;
    if ((e & 1) === 0) isCall[k] = 1;
    else returnNode[e >> 1] = k;
    next[k - 1] = k;
    prev[k] = k - 1;
  }
  next[m] = HEAD;
  prev[HEAD] = m;

  const lift = (call: number): void => {
    next[prev[call]!] = next[call]!;
    prev[next[call]!] = prev[call]!;
    const ret = returnNode[nodeOp[call]!]!;
    if (ret !== 0) {
      next[prev[ret]!] = next[ret]!;
      prev[next[ret]!] = prev[ret]!;
    }
  };
  // Dancing links: restoring in the reverse order of removal needs only the removed nodes' own
  // (untouched) pointers.
  const unlift = (call: number): void => {
    const ret = returnNode[nodeOp[call]!]!;
    if (ret !== 0) {
      next[prev[ret]!] = ret;
      prev[next[ret]!] = ret;
    }
    next[prev[call]!] = call;
    prev[next[call]!] = call;
  };

  // What each operation is, which decides in which pass it is tried (see the file comment).
  const passOf = new Uint8Array(n);
  // Blind writes (put, delete) set the state without looking at it.
  const blind = new Uint8Array(n);
  // For an optional operation, the previous optional one with the same command, if any.
  const twinBefore = new Int32Array(n).fill(-1);
  const lastOfCommand = new Map<string, number>();
  const byCall = Array.from({ length: n }, (_, i) => i).sort((a, b) => ops[a]!.call - ops[b]!.call || a - b);
  for (const i of byCall) {
    const o = ops[i]!.op;
    if (model.isBlind(o)) blind[i] = 1;
    if (returnNode[i] === 0) {
      passOf[i] = Pass.Optional;
      // The key belongs to the signature: a group's search holds operations on several keys.
      const signature = JSON.stringify([isTxn(o) ? null : o.key, o.op]);
      twinBefore[i] = lastOfCommand.get(signature) ?? -1;
      lastOfCommand.set(signature, i);
    } else if (model.isRead(o)) {
      passOf[i] = Pass.Read;
    } else passOf[i] = Pass.Required;
  }

  const placedRequired = new Bitset(n);
  const placedOptional = new Bitset(n);
  const cache = new ConfigurationCache();
  const stackNode = new Int32Array(n);
  const stackState: S[] = new Array<S>(n);
  let depth = 0;
  let requiredCount = 0;
  let state = initial;
  cache.add(placedRequired, placedOptional, model.id(state));

  let bestDepth = -1;
  let bestPrefix: number[] = [];
  let bestUnplaceable = -1;
  let bestCandidates: number[] = [];

  let steps = 0;
  let pass: Pass = Pass.Read;
  // The last operation placed was an optional blind write (its index; -1: it was not): unless
  // something reads what it wrote next, placing it was pointless (leaving it out is no worse), so
  // blind writes that hide it wait.
  let mustObserve = -1;
  let node = next[HEAD]!;
  for (;;) {
    steps++;
    if (steps > budget.steps) {
      budget.steps = 0;
      return { kind: 'unknown', steps, reason: 'step-budget' };
    }
    if (budget.deadline !== undefined && steps % CLOCK_EVERY === 0 && budget.clock!() > budget.deadline) {
      budget.steps -= steps;
      return { kind: 'unknown', steps, reason: 'deadline' };
    }

    let deadEnd = false;
    if (node !== HEAD && isCall[node] === 1) {
      const i = nodeOp[node]!;
      if (passOf[i] !== pass) {
        node = next[node]!;
        continue;
      }
      // Cuts that only drop orders with a no-worse equivalent (see the file comment): after an
      // optional blind write, a blind write; an optional twin before its earlier twin is used.
      if (
        (mustObserve !== -1 && blind[i] === 1 && model.hides(ops[i]!.op, ops[mustObserve]!.op)) ||
        (pass === Pass.Optional && twinBefore[i] !== -1 && !placedOptional.has(twinBefore[i]!))
      ) {
        node = next[node]!;
        continue;
      }
      const after = model.step(state, ops[i]!.op);
      const afterId = after === undefined ? undefined : model.id(after);
      // An optional operation that changes nothing is as good as one left out.
      if (after === undefined || (pass === Pass.Optional && afterId === model.id(state))) {
        node = next[node]!;
        continue;
      }
      const placed = pass === Pass.Optional ? placedOptional : placedRequired;
      placed.set(i);
      if (cache.add(placedRequired, placedOptional, afterId!)) {
        stackNode[depth] = node;
        stackState[depth] = state;
        depth++;
        state = after;
        lift(node);
        if (pass !== Pass.Optional && ++requiredCount === required) {
          budget.steps -= steps;
          return { kind: 'ok', steps };
        }
        mustObserve = pass === Pass.Optional && blind[i] === 1 ? i : -1;
        pass = Pass.Read;
        node = next[HEAD]!;
        continue;
      }
      placed.clear(i);
      if (pass !== Pass.Read) {
        node = next[node]!;
        continue;
      }
      // Placing this read next was explored already and failed: so does every other choice here.
    } else if (pass !== Pass.Optional) {
      pass++;
      node = next[HEAD]!;
      continue;
    } else {
      // A return event (or, defensively, the end of the list): the operation it belongs to should
      // have been linearized by now. Remember the deepest such dead end for the report.
      deadEnd = true;
    }

    if (deadEnd && depth > bestDepth && node !== HEAD) {
      bestDepth = depth;
      bestPrefix = Array.from(stackNode.subarray(0, depth), (k) => nodeOp[k]!);
      bestUnplaceable = nodeOp[node]!;
      bestCandidates = [];
      for (let k = next[HEAD]!; k !== node; k = next[k]!) {
        if (isCall[k] === 1) bestCandidates.push(nodeOp[k]!);
      }
    }
    // Backtrack: undo the latest choice and try the next candidate of the same pass after it,
    // unless the choice was a read, whose failure refutes its whole configuration.
    let i: number;
    do {
      if (depth === 0) {
        budget.steps -= steps;
        return {
          kind: 'violation',
          steps,
          prefix: bestPrefix,
          unplaceable: bestUnplaceable,
          candidates: bestCandidates,
        };
      }
      depth--;
      node = stackNode[depth]!;
      state = stackState[depth]!;
      i = nodeOp[node]!;
      if (passOf[i] === Pass.Optional) placedOptional.clear(i);
      else {
        placedRequired.clear(i);
        requiredCount--;
      }
      unlift(node);
    } while (passOf[i] === Pass.Read);
    pass = passOf[i] as Pass;
    const top = depth > 0 ? nodeOp[stackNode[depth - 1]!]! : -1;
    mustObserve = top !== -1 && passOf[top] === Pass.Optional && blind[top] === 1 ? top : -1;
    node = next[node]!;
  }
}

const Pass = { Read: 0, Required: 1, Optional: 2 } as const;
type Pass = (typeof Pass)[keyof typeof Pass];

/** A fixed-size bitset with an incrementally maintained Zobrist hash. */
class Bitset {
  readonly words: Uint32Array;
  hash = 0;
  private readonly zobrist: Int32Array;

  constructor(size: number) {
    this.words = new Uint32Array((size + 31) >>> 5);
    this.zobrist = zobristTable(size);
  }

  set(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31);
    this.hash ^= this.zobrist[i]!;
  }

  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  clear(i: number): void {
    this.words[i >>> 5]! &= ~(1 << (i & 31));
    this.hash ^= this.zobrist[i]!;
  }
}

/** Deterministic pseudo-random words (xorshift32), so that runs are reproducible. */
function zobristTable(size: number): Int32Array {
  const table = new Int32Array(size);
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    table[i] = x;
  }
  return table;
}

interface CachedConfiguration {
  readonly required: Uint32Array;
  optional: Uint32Array;
  readonly state: number;
}

/**
 * The configurations explored (or being explored). Keyed by the placed required operations and
 * the state only, so that configurations differing in placed optional operations share a bucket
 * and can be compared for dominance.
 */
class ConfigurationCache {
  private readonly buckets = new Map<number, CachedConfiguration[]>();
  // States are interned so that a configuration compares as integers.
  private readonly stateIds = new Map<Value, number>();

  /** Adds the configuration; false if it or one that dominates it is there already. */
  add(required: Bitset, optional: Bitset, state: Value): boolean {
    let id = this.stateIds.get(state);
    if (id === undefined) {
      id = this.stateIds.size;
      this.stateIds.set(state, id);
    }
    const key = (required.hash ^ Math.imul(id + 1, 0x9e3779b1)) | 0;
    const bucket = this.buckets.get(key);
    if (bucket === undefined) {
      this.buckets.set(key, [
        { required: required.words.slice(), optional: optional.words.slice(), state: id },
      ]);
      return true;
    }
    let replaced = false;
    for (let b = 0; b < bucket.length; b++) {
      const c = bucket[b]!;
      if (c.state !== id || !sameWords(c.required, required.words)) continue;
      if (subset(c.optional, optional.words)) return false;
      // The new configuration dominates this one: keep the bucket short by taking its slot.
      if (subset(optional.words, c.optional)) {
        if (!replaced) {
          c.optional = optional.words.slice();
          replaced = true;
        } else {
          bucket[b] = bucket[bucket.length - 1]!;
          bucket.pop();
          b--;
        }
      }
    }
    if (!replaced)
      bucket.push({ required: required.words.slice(), optional: optional.words.slice(), state: id });
    return true;
  }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether every bit of `a` is set in `b`. */
function subset(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i]! & ~b[i]!) !== 0) return false;
  return true;
}
