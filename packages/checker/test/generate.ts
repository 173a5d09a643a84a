import {
  type KeyCommand as Command,
  type KeyOperation as Operation,
  step,
  type Value,
} from '../src/index.js';

/** A small seeded PRNG (mulberry32), so generated histories are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ClientsOptions {
  readonly seed: number;
  readonly operations: number;
  readonly clients: number;
  readonly keys: number;
  /** Share of writes whose client never hears back (half of them never take effect). */
  readonly unknownRate?: number;
  /**
   * Every write writes a value of its own (as test workloads should: a read then names the one
   * write it saw). Otherwise values come from a set of six, which makes histories ambiguous.
   */
  readonly uniqueValues?: boolean;
}

/**
 * A linearizable history as a cluster would produce it: `clients` clients, each issuing one
 * operation at a time, every operation taking effect at one instant inside its interval, over
 * a handful of keys. Results come from running the model in the order of those instants.
 */
export function concurrentClients(o: ClientsOptions): Operation[] {
  const random = rng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const values = ['0', '1', '2', '3', '4', '5'];
  const unknownRate = o.unknownRate ?? 0.05;

  interface Draft {
    id: number;
    process: number;
    key: string;
    op: Command;
    invoke: number;
    complete: number | null;
    point: number;
    fate: 'ok' | 'unknown' | 'phantom';
  }
  const drafts: Draft[] = [];
  const written = new Map<string, string[]>();
  const clock = new Array<number>(o.clients).fill(0);
  for (let id = 1; id <= o.operations; id++) {
    const process = Math.floor(random() * o.clients);
    const invoke = clock[process]! + Math.floor(random() * 5);
    const duration = 1 + Math.floor(random() * 40);
    const point = invoke + random() * duration;
    const key = `k${Math.floor(random() * o.keys)}`;
    const recent = written.get(key) ?? [];
    const value = o.uniqueValues === true ? String(id * 1000) : pick(values);
    const expected = o.uniqueValues === true ? pick([null, ...recent.slice(-3)]) : pick([null, ...values]);
    const r = random();
    const op: Command =
      r < 0.45
        ? { kind: 'get' }
        : r < 0.75
          ? { kind: 'put', value }
          : r < 0.9
            ? { kind: 'cas', expected, value }
            : r < 0.95
              ? { kind: 'incr', delta: 1 }
              : { kind: 'delete' };
    const lost = op.kind !== 'get' && random() < unknownRate;
    const fate = lost ? (random() < 0.5 ? 'unknown' : 'phantom') : 'ok';
    const complete = lost && random() < 0.5 ? null : invoke + duration;
    if (op.kind === 'put' || op.kind === 'cas') written.set(key, [...recent.slice(-5), op.value]);
    drafts.push({ id, process, key, op, invoke, complete, point, fate });
    clock[process] = invoke + duration + 1;
  }

  const state = new Map<string, Value>();
  const results = new Map<number, unknown>();
  for (const d of [...drafts].sort((a, b) => a.point - b.point)) {
    if (d.fate === 'phantom') continue;
    const before = state.get(d.key) ?? null;
    const after = step(before, d.op, { status: 'unknown' })!;
    state.set(d.key, after);
    results.set(
      d.id,
      d.op.kind === 'get'
        ? before
        : d.op.kind === 'cas'
          ? before === d.op.expected
          : d.op.kind === 'incr'
            ? after
            : undefined,
    );
  }
  return drafts.map((d) => {
    const outcome =
      d.fate === 'ok'
        ? d.op.kind === 'put' || d.op.kind === 'delete'
          ? { status: 'ok' as const }
          : { status: 'ok' as const, result: results.get(d.id) }
        : { status: 'unknown' as const };
    return {
      id: d.id,
      process: d.process,
      key: d.key,
      op: d.op,
      invoke: d.invoke,
      complete: d.complete,
      outcome,
    } as Operation;
  });
}
