import type { TxnCommand, TxnCompare } from '@keel/checker';
import type { Entry, StateMachine } from '@keel/core';

/**
 * One operation on one register (`null` is the value of a register never written), or a
 * transaction over a few registers, in the checker's own terms: compares on the registers as they
 * were before it, then the `success` or `failure` steps, all applied at once.
 */
export type RegisterOp =
  | { readonly kind: 'put'; readonly value: string }
  | { readonly kind: 'get' }
  | { readonly kind: 'cas'; readonly expected: string | null; readonly value: string }
  | TxnCommand;

export interface RegisterCommand {
  /** Unique per client operation: lets the simulator see where a proposal went. */
  readonly id: number;
  /** The register; for a transaction, the first it names (only a label: its steps name theirs). */
  readonly key: string;
  readonly op: RegisterOp;
}

export type RegisterResult =
  | { readonly kind: 'put' }
  | { readonly kind: 'get'; readonly value: string | null }
  | { readonly kind: 'cas'; readonly swapped: boolean }
  | { readonly kind: 'txn'; readonly succeeded: boolean; readonly gets: readonly (string | null)[] }
  | { readonly kind: 'invalid' };

export interface RegisterMachineOptions {
  /**
   * PLANTED BUG for tests: a transaction applies its first write now and the others only after the
   * next entry, which then sees half of the transaction.
   */
  readonly splitTxnWrites?: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes: the operation id as a big-endian u32, then the command as JSON. */
export function encodeCommand(cmd: RegisterCommand): Uint8Array {
  const body = encoder.encode(JSON.stringify({ k: cmd.key, o: cmd.op }));
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, cmd.id >>> 0);
  out.set(body, 4);
  return out;
}

/** The operation id alone, without parsing the body (cheap enough to run on every entry). */
export function commandId(data: Uint8Array): number | null {
  if (data.byteLength < 4) return null;
  return new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
}

export function decodeCommand(data: Uint8Array): RegisterCommand | null {
  const id = commandId(data);
  if (id === null) return null;
  try {
    const body = JSON.parse(decoder.decode(data.subarray(4))) as { k?: unknown; o?: unknown };
    if (typeof body.k !== 'string' || typeof body.o !== 'object' || body.o === null) return null;
    return { id, key: body.k, op: body.o as RegisterOp };
  } catch {
    return null;
  }
}

/** A few named registers: the replicated application the simulator's clients use. */
export class RegisterMachine implements StateMachine<RegisterResult> {
  private readonly values = new Map<string, string>();
  /** The planted bug's writes held back until after the next entry. */
  private deferred: [string, string | null][] = [];

  constructor(private readonly options: RegisterMachineOptions = {}) {}

  apply(entry: Entry): RegisterResult {
    const late = this.deferred;
    this.deferred = [];
    const result = this.applyEntry(entry);
    for (const [k, v] of late) this.write(k, v);
    return result;
  }

  private applyEntry(entry: Entry): RegisterResult {
    const cmd = decodeCommand(entry.data);
    if (cmd === null) return { kind: 'invalid' };
    const current = this.values.get(cmd.key) ?? null;
    switch (cmd.op.kind) {
      case 'put':
        this.values.set(cmd.key, cmd.op.value);
        return { kind: 'put' };
      case 'get':
        return { kind: 'get', value: current };
      case 'cas': {
        const swapped = current === cmd.op.expected;
        if (swapped) this.values.set(cmd.key, cmd.op.value);
        return { kind: 'cas', swapped };
      }
      case 'txn':
        return this.txn(cmd.op);
      default:
        return { kind: 'invalid' };
    }
  }

  private txn(op: TxnCommand): RegisterResult {
    const succeeded = op.compare.every((c) => holds(this.values.get(c.key) ?? null, c));
    const writes: [string, string | null][] = [];
    const gets: (string | null)[] = [];
    for (const s of succeeded ? op.success : op.failure) {
      if (s.kind === 'get') {
        // A get sees the writes before it in its branch.
        const own = writes.findLast(([k]) => k === s.key);
        gets.push(own !== undefined ? own[1] : (this.values.get(s.key) ?? null));
      } else writes.push([s.key, s.kind === 'put' ? s.value : null]);
    }
    const now = this.options.splitTxnWrites === true ? writes.slice(0, 1) : writes;
    for (const [k, v] of now) this.write(k, v);
    if (now !== writes) this.deferred = writes.slice(1);
    return { kind: 'txn', succeeded, gets };
  }

  private write(key: string, value: string | null): void {
    if (value === null) this.values.delete(key);
    else this.values.set(key, value);
  }

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  /**
   * The registers as JSON, keys sorted: equal states give equal bytes on every member. (The planted
   * bug's held-back writes follow as one more element, so that a restored member agrees too.)
   */
  snapshot(): Uint8Array {
    const keys = [...this.values.keys()].sort();
    const pairs: unknown[] = keys.map((k) => [k, this.values.get(k)!]);
    if (this.deferred.length > 0) pairs.push({ deferred: this.deferred });
    return encoder.encode(JSON.stringify(pairs));
  }

  restore(data: Uint8Array): void {
    const items = JSON.parse(decoder.decode(data)) as (
      | [string, string]
      | { deferred: [string, string | null][] }
    )[];
    this.values.clear();
    this.deferred = [];
    for (const item of items) {
      if (Array.isArray(item)) this.values.set(item[0], item[1]);
      else this.deferred = item.deferred;
    }
  }
}

/** A compare on a register as the checker (and etcd) define it: an absent key fails every value compare. */
function holds(v: string | null, c: TxnCompare): boolean {
  if (c.target === 'exists') return (v !== null) === (c.op === '=' ? c.value : !c.value);
  if (v === null) return false;
  switch (c.op) {
    case '=':
      return v === c.value;
    case '!=':
      return v !== c.value;
    case '<':
      return v < c.value;
    case '>':
      return v > c.value;
  }
}
