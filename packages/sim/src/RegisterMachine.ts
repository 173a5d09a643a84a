import type { Entry, StateMachine } from '@keel/core';

/** One operation on one register; `null` is the value of a register never written. */
export type RegisterOp =
  | { readonly kind: 'put'; readonly value: string }
  | { readonly kind: 'get' }
  | { readonly kind: 'cas'; readonly expected: string | null; readonly value: string };

export interface RegisterCommand {
  /** Unique per client operation: lets the simulator see where a proposal went. */
  readonly id: number;
  readonly key: string;
  readonly op: RegisterOp;
}

export type RegisterResult =
  | { readonly kind: 'put' }
  | { readonly kind: 'get'; readonly value: string | null }
  | { readonly kind: 'cas'; readonly swapped: boolean }
  | { readonly kind: 'invalid' };

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

  apply(entry: Entry): RegisterResult {
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
      default:
        return { kind: 'invalid' };
    }
  }

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  /** The registers as JSON, keys sorted: equal states give equal bytes on every member. */
  snapshot(): Uint8Array {
    const keys = [...this.values.keys()].sort();
    return encoder.encode(JSON.stringify(keys.map((k) => [k, this.values.get(k)!])));
  }

  restore(data: Uint8Array): void {
    const pairs = JSON.parse(decoder.decode(data)) as [string, string][];
    this.values.clear();
    for (const [k, v] of pairs) this.values.set(k, v);
  }
}
