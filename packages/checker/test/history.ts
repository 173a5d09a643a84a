import type { Failed, Indeterminate, Ok, Operation, Value } from '../src/index.js';

type Status = 'ok' | 'fail' | 'unknown';
type WithoutId<O> = O extends Operation ? Omit<O, 'id'> : never;

/**
 * Terse construction of hand-written histories. Every method takes the process, the key, the
 * command's arguments, what the client saw, and the interval `[invoke, complete]`
 * (`complete = null`: the client never heard back).
 */
export class HistoryBuilder {
  readonly ops: Operation[] = [];
  private nextId = 1;

  put(
    process: number,
    key: string,
    value: string,
    invoke: number,
    complete: number | null,
    status: Status = 'ok',
  ) {
    return this.add({ process, key, op: { kind: 'put', value }, invoke, complete, outcome: outcome(status) });
  }

  delete(process: number, key: string, invoke: number, complete: number | null, status: Status = 'ok') {
    return this.add({ process, key, op: { kind: 'delete' }, invoke, complete, outcome: outcome(status) });
  }

  /** `read`: the value the client got, or `fail` / `unknown` when it got none. */
  get(
    process: number,
    key: string,
    read: Value | { status: 'fail' | 'unknown' },
    invoke: number,
    complete: number | null,
  ) {
    const out = read !== null && typeof read === 'object' ? read : { status: 'ok' as const, result: read };
    return this.add({ process, key, op: { kind: 'get' }, invoke, complete, outcome: out });
  }

  cas(
    process: number,
    key: string,
    expected: Value,
    value: string,
    swapped: boolean | 'fail' | 'unknown',
    invoke: number,
    complete: number | null,
  ) {
    const out: Ok<boolean> | Failed | Indeterminate =
      typeof swapped === 'boolean' ? { status: 'ok', result: swapped } : { status: swapped };
    return this.add({ process, key, op: { kind: 'cas', expected, value }, invoke, complete, outcome: out });
  }

  incr(
    process: number,
    key: string,
    delta: number,
    result: string | 'fail' | 'unknown',
    invoke: number,
    complete: number | null,
  ) {
    const out: Ok<string> | Failed | Indeterminate =
      result === 'fail' || result === 'unknown' ? { status: result } : { status: 'ok', result };
    return this.add({ process, key, op: { kind: 'incr', delta }, invoke, complete, outcome: out });
  }

  private add(o: WithoutId<Operation>): this {
    this.ops.push({ id: this.nextId++, ...o } as Operation);
    return this;
  }
}

function outcome(status: Status): { status: 'ok' } | { status: 'fail' } | { status: 'unknown' } {
  return { status };
}
