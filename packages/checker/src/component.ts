import { isTxn, type Operation, type TxnStep, type Value } from './history.js';
import { copyState, type KeyValues, step, stepTxn } from './model.js';
import type { SearchModel } from './wgl.js';

/**
 * Keys that must be searched together. Linearizability is local per object (Herlihy & Wing), and
 * a transaction makes the keys it names one object: its writes land at one instant, and its reads
 * see them all or none. So keys are grouped into components — two keys share one when some
 * operation names both (union-find over the history) — and each component is searched as one
 * register whose state maps each of its keys to a value. A history without transactions has only
 * single-key components, searched exactly as before with the one-key register.
 */
export function components(keyLists: Iterable<readonly string[]>): string[][] {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let root = k;
    while (parent.get(root) !== root) root = parent.get(root)!;
    // Path compression: later finds of this chain are one hop.
    for (let x = k; x !== root; ) {
      const up = parent.get(x)!;
      parent.set(x, root);
      x = up;
    }
    return root;
  };
  for (const keys of keyLists) {
    for (const k of keys) if (!parent.has(k)) parent.set(k, k);
    for (let i = 1; i < keys.length; i++) {
      const a = find(keys[0]!);
      const b = find(keys[i]!);
      // The smaller key becomes the root, so that roots do not depend on the order of the history.
      if (a < b) parent.set(b, a);
      else if (b < a) parent.set(a, b);
    }
  }
  const groups = new Map<string, string[]>();
  for (const k of parent.keys()) {
    const root = find(k);
    const g = groups.get(root);
    if (g === undefined) groups.set(root, [k]);
    else g.push(k);
  }
  return [...groups.values()].map((g) => g.sort(cmp));
}

/**
 * A component's register: its state lists every key of the component, in `keys` order (so that
 * equal states serialize alike). Single-key operations act on their key as `step` says;
 * transactions as `stepTxn` says, on all of them at once.
 */
export function componentModel(keys: readonly string[]): SearchModel<KeyValues> {
  // Each state object is serialized once: the search asks for the id of the same state repeatedly.
  const ids = new WeakMap<KeyValues, string>();
  return {
    step(state, o) {
      if (isTxn(o)) return stepTxn(state, o.op, o.outcome);
      const before = state[o.key] ?? null;
      const after = step(before, o.op, o.outcome);
      if (after === undefined) return undefined;
      if (after === before) return state;
      const next = copyState(state);
      next[o.key] = after;
      return next;
    },
    id(state) {
      let id = ids.get(state);
      if (id === undefined) {
        id = JSON.stringify(keys.map((k) => state[k] ?? null));
        ids.set(state, id);
      }
      return id;
    },
    isRead(o) {
      if (!isTxn(o)) {
        return o.op.kind === 'get' || (o.op.kind === 'cas' && o.outcome.status === 'ok' && !o.outcome.result);
      }
      if (o.outcome.status !== 'ok') return false;
      return readOnly(o.outcome.result.succeeded ? o.op.success : o.op.failure);
    },
    isBlind: (o) => blindWrites(o) !== null,
    // A write to one key leaves the others as they were: only a blind write of all of its keys hides
    // an earlier one.
    hides(later, earlier) {
      const l = blindWrites(later);
      const e = blindWrites(earlier);
      if (l === null || e === null) return false;
      return e.every((k) => l.includes(k));
    },
  };
}

/**
 * The keys `o` writes if it writes without reading anything: a put or delete, or a transaction with
 * no compare (so its success branch runs) made only of puts and deletes; else null.
 */
function blindWrites(o: Operation): readonly string[] | null {
  if (!isTxn(o)) return o.op.kind === 'put' || o.op.kind === 'delete' ? [o.key] : null;
  if (o.op.compare.length > 0 || o.op.success.length === 0 || !o.op.success.every((s) => s.kind !== 'get'))
    return null;
  return o.op.success.map((s) => s.key);
}

/** The initial state of a component. */
export function initialState(
  keys: readonly string[],
  initial: Readonly<Record<string, Value>> | undefined,
): KeyValues {
  const state = copyState({});
  for (const k of keys)
    state[k] = (initial !== undefined && Object.hasOwn(initial, k) ? initial[k] : null) ?? null;
  return state;
}

/** A branch that writes nothing. */
export function readOnly(steps: readonly TxnStep[]): boolean {
  return steps.every((s) => s.kind === 'get');
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
