import type {
  CasOperation,
  GetOperation,
  IncrOperation,
  Operation,
  PutOperation,
  TxnCommand,
  TxnOperation,
  TxnStep,
} from '@keel/checker';
import { SeededRng } from '@keel/core';
import { type CasResult, type CompareFailed, KvClient, KvClientError, type TxnInput } from '@keel/kv';
import { ClientConnection } from '@keel/transport-zmq';
import { checkerOutcome } from './outcome.js';

export const COUNTER_KEY = 'counter';

export interface WorkloadOptions {
  /** Member client endpoints, `host:port`, and their ids (for leader hints). */
  readonly members: ReadonlyMap<string, string>;
  readonly clients: number;
  /** Registers r0..r{keys-1}, plus the counter. */
  readonly keys: number;
  /** Most operations in total (the run stops issuing new ones after that). */
  readonly maxOps: number;
  /** Deadline of one operation, retries included; past it the outcome is indeterminate. */
  readonly opTimeoutMs: number;
  /** Pause between one client's operations (keeps histories checkable). */
  readonly thinkMs: number;
  readonly seed: number;
  readonly clock: () => number;
  /**
   * Share of the register operations that are transactions (0..1; default 0), each over one group
   * of up to three registers (r0-r2, r3-r5, ...) that also get single-key operations.
   */
  readonly txns?: number;
}

const decoder = new TextDecoder();

/**
 * Concurrent clients — each a real `KvClient` with exactly-once sessions — doing put, get and
 * compare-and-swap on a few registers and incrementing one counter, recording every operation with
 * its invocation and completion on one monotonic clock. What a client could not learn is recorded as
 * indeterminate (`unknown`): timeouts, unreachable clusters, closed clients, and any error whose
 * write might have been applied. Only an error that proves the write was not applied is `fail`.
 */
export class Workload {
  readonly history: Operation[] = [];
  /** Errors by code, for the report (indeterminate outcomes included). */
  readonly errors = new Map<string, number>();
  private nextId = 1;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly kvs: KvClient[] = [];

  constructor(private readonly o: WorkloadOptions) {}

  get keyNames(): string[] {
    return [...Array.from({ length: this.o.keys }, (_v, i) => `r${i}`), COUNTER_KEY];
  }

  start(): void {
    this.running = true;
    for (let c = 0; c < this.o.clients; c++) {
      const kv = this.client();
      this.kvs.push(kv);
      this.loops.push(this.loop(c, kv, new SeededRng(this.o.seed + c * 7919)));
    }
  }

  /** Stops issuing operations and waits for those in flight (each ends by its deadline). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.kvs.splice(0).map((k) => k.close()));
  }

  /** A fresh client for final reads and probes (not part of the concurrent load). */
  client(): KvClient {
    const endpoints = [...this.o.members.values()];
    const kv = new KvClient({
      endpoints,
      members: this.o.members,
      connect: (a) => new ClientConnection({ address: `tcp://${a}`, reconnectIntervalMs: 20 }),
      timeoutMs: this.o.opTimeoutMs,
      attemptTimeoutMs: Math.max(100, Math.floor(this.o.opTimeoutMs / 4)),
      backoffMs: { min: 10, max: 200 },
      sessions: 2,
    });
    this.kvs.push(kv);
    return kv;
  }

  private async loop(c: number, kv: KvClient, rng: SeededRng): Promise<void> {
    const seen = new Map<string, string | null>();
    let seq = 0;
    while (this.running && this.nextId <= this.o.maxOps) {
      const r = rng.float();
      if (r < 0.12) {
        await this.incr(c, kv);
      } else {
        const key = `r${rng.int(this.o.keys)}`;
        if ((this.o.txns ?? 0) > 0 && rng.float() < this.o.txns!) {
          await this.txn(
            c,
            kv,
            this.makeTxn(key, rng, seen, () => `${c}-${++seq}`),
            seen,
          );
        } else if (r < 0.5) await this.get(c, kv, key, seen);
        else if (r < 0.8) {
          const value = `${c}-${++seq}`;
          if (await this.put(c, kv, key, value)) seen.set(key, value);
        } else {
          const value = `${c}-${++seq}`;
          const expected = seen.has(key) ? seen.get(key)! : null;
          if (await this.cas(c, kv, key, expected, value)) seen.set(key, value);
        }
      }
      if (this.o.thinkMs > 0) await new Promise((res) => setTimeout(res, rng.int(this.o.thinkMs + 1)));
    }
  }

  /** Reads `key` linearizably and records it; resolves with the value, or undefined if it failed. */
  async get(
    process: number | string,
    kv: KvClient,
    key: string,
    seen?: Map<string, string | null>,
  ): Promise<string | null | undefined> {
    let value: string | null | undefined;
    await this.record<GetOperation>(process, key, { kind: 'get' }, async () => {
      const r = await kv.get(key);
      value = r.kv === null ? null : decoder.decode(r.kv.value);
      seen?.set(key, value);
      return { status: 'ok', result: value };
    });
    return value;
  }

  private async put(process: number, kv: KvClient, key: string, value: string): Promise<boolean> {
    const outcome = await this.record<PutOperation>(process, key, { kind: 'put', value }, async () => {
      await kv.put(key, value);
      return { status: 'ok' };
    });
    return outcome.status === 'ok';
  }

  private async cas(
    process: number,
    kv: KvClient,
    key: string,
    expected: string | null,
    value: string,
  ): Promise<boolean> {
    const outcome = await this.record<CasOperation>(
      process,
      key,
      { kind: 'cas', expected, value },
      async () => {
        const r: CasResult | CompareFailed = await kv.cas(key, { value: expected }, value);
        return { status: 'ok', result: r.ok };
      },
    );
    return outcome.status === 'ok' && outcome.result === true;
  }

  /**
   * A transaction on the group of `key`, as the simulator's: write every register of it, read
   * every one, or — if `key` still holds what this client last saw — write them all, else read them.
   */
  private makeTxn(
    key: string,
    rng: SeededRng,
    seen: ReadonlyMap<string, string | null>,
    nextValue: () => string,
  ): TxnCommand {
    const first = Number(key.slice(1)) - (Number(key.slice(1)) % 3);
    const group: string[] = [];
    for (let i = first; i < Math.min(first + 3, this.o.keys); i++) group.push(`r${i}`);
    const gets: TxnStep[] = group.map((k) => ({ kind: 'get', key: k }));
    const puts = (): TxnStep[] => group.map((k) => ({ kind: 'put', key: k, value: nextValue() }));
    const shape = rng.int(3);
    if (shape === 0) return { kind: 'txn', compare: [], success: puts(), failure: [] };
    if (shape === 1) return { kind: 'txn', compare: [], success: gets, failure: [] };
    const last = seen.get(key) ?? null;
    return {
      kind: 'txn',
      compare: [
        last === null
          ? { key, target: 'exists', op: '=', value: false }
          : { key, target: 'value', op: '=', value: last },
      ],
      success: puts(),
      failure: gets,
    };
  }

  /** Runs a transaction through `KvClient.txn` (exactly once, like every write) and records it. */
  private async txn(
    process: number,
    kv: KvClient,
    op: TxnCommand,
    seen: Map<string, string | null>,
  ): Promise<void> {
    const input: TxnInput = {
      compare: op.compare.map((c) =>
        c.target === 'exists'
          ? { key: c.key, exists: c.value, op: c.op === '!=' ? '!=' : '=' }
          : { key: c.key, value: c.value, op: c.op },
      ),
      success: op.success.map(txnStepInput),
      failure: op.failure.map(txnStepInput),
    };
    await this.record<TxnOperation>(process, null, op, async () => {
      const r = await kv.txn(input);
      const gets = r.results.flatMap((x) =>
        x.type === 'get' ? [x.kv === null ? null : decoder.decode(x.kv.value)] : [],
      );
      let g = 0;
      for (const s of r.succeeded ? op.success : op.failure) {
        if (s.kind === 'put') seen.set(s.key, s.value);
        else if (s.kind === 'get') seen.set(s.key, gets[g++] ?? null);
      }
      return { status: 'ok', result: { succeeded: r.succeeded, gets } };
    });
  }

  private async incr(process: number, kv: KvClient): Promise<void> {
    await this.record<IncrOperation>(process, COUNTER_KEY, { kind: 'incr', delta: 1 }, async () => {
      const r = await kv.incr(COUNTER_KEY, 1);
      if (r.ok) return { status: 'ok', result: String(r.value) };
      // The store refused it (the counter is not an integer): no effect.
      this.count(r.code);
      return { status: 'fail' };
    });
  }

  /**
   * Runs one operation and appends it to the history with its invocation and completion times:
   * `run` resolves with the outcome the client learned; a throw is recorded as `failure(err)`.
   */
  private async record<T extends Operation>(
    process: number | string,
    key: string | null,
    op: T['op'],
    run: () => Promise<T['outcome']>,
  ): Promise<T['outcome']> {
    const id = this.nextId++;
    const invoke = this.o.clock();
    let outcome: T['outcome'];
    try {
      outcome = await run();
    } catch (err) {
      outcome = this.failure(err);
    }
    // A transaction names its keys in its steps; it has no key of its own.
    const named = key === null ? {} : { key };
    this.history.push({ id, process, ...named, op, invoke, complete: this.o.clock(), outcome } as T);
    return outcome;
  }

  /** Counts the error, then maps it with `checkerOutcome`. */
  private failure(err: unknown): { status: 'unknown' } | { status: 'fail' } {
    this.count(err instanceof KvClientError ? err.code : 'other');
    return checkerOutcome(err);
  }

  private count(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}

function txnStepInput(s: TxnStep): { put: string; value: string } | { delete: string } | { get: string } {
  if (s.kind === 'put') return { put: s.key, value: s.value };
  return s.kind === 'delete' ? { delete: s.key } : { get: s.key };
}
