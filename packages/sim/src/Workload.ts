import type { Operation, TxnCommand, TxnStep } from '@keel/checker';
import type { NodeId, ProposeOutcome, SeededRng } from '@keel/core';
import { encodeCommand, type RegisterOp, type RegisterResult } from './RegisterMachine.js';
import type { SimScheduler } from './SimScheduler.js';
import { chance, pick, uniform } from './simRng.js';

/** How the clients reach the cluster. */
export interface ClientGateway {
  readonly members: readonly NodeId[];
  /**
   * Sends a request to `node`; `reply` is called once with the member's answer, or never (the
   * request or the member was lost). False: refused at once (the member is down), nothing sent.
   */
  propose(node: NodeId, data: Uint8Array, reply: (outcome: ProposeOutcome<RegisterResult>) => void): boolean;
  /** Whether the proposal of operation `id` reached any member's log. */
  appended(id: number): boolean;
  /**
   * A linearizable read (ReadIndex, or a lease read when the members use leases), answered from the
   * member's state machine once it is safe; rejections come back as `not-leader` or
   * `proposal-dropped` (a read that failed did nothing, so it is always safe to retry).
   */
  read?(node: NodeId, key: string, reply: (outcome: ProposeOutcome<RegisterResult>) => void): boolean;
  /** A read served by the member's state machine without the log (a planted bug; see SimCluster). */
  readLocally?(node: NodeId, key: string, reply: (outcome: ProposeOutcome<RegisterResult>) => void): boolean;
}

export interface WorkloadOptions {
  readonly clients: number;
  readonly keys: number;
  /** A client gives up on an operation after this long; its outcome is then unknown. */
  readonly opTimeoutMs: number;
  /** Pause between a client's operations. */
  readonly thinkMs: readonly [number, number];
  /** One-way latency between clients and members. */
  readonly latencyMs: number;
  /**
   * How gets are served: as log entries, through `read` (ReadIndex or lease), or — a PLANTED BUG
   * for tests — from the contacted leader's state machine with no check at all.
   */
  readonly reads: ReadPath;
  /**
   * Share of operations that are transactions (0..1; default 0: none, and the random stream is
   * exactly what it was before transactions existed). Each names one group of up to three keys
   * (k0-k2, k3-k5, ...), which also get single-key operations.
   */
  readonly txns?: number;
}

type Status = 'pending' | 'ok' | 'fail' | 'unknown';

export type ReadPath = 'log' | 'read-index' | 'unsafe-local';

interface OpRecord {
  readonly id: number;
  readonly process: number;
  readonly client: number;
  readonly key: string;
  readonly op: RegisterOp;
  readonly invoke: number;
  complete: number | null;
  status: Status;
  result: RegisterResult | null;
}

interface Client {
  readonly index: number;
  process: number;
  target: NodeId;
  current: OpRecord | null;
  /** Attempt counter: replies to earlier attempts are ignored. */
  attempt: number;
  /** An attempt was sent and has not been answered (so it may still take effect). */
  outstanding: boolean;
  /** Last value this client saw or wrote, per key (what a cas or a transaction's compare expects). */
  readonly seen: Map<string, string | null>;
  lastOkInvoke: number;
}

export interface WorkloadStats {
  ok: number;
  fail: number;
  unknown: number;
  pending: number;
}

/**
 * A few clients doing one operation at a time on a few registers: put, get (through the log) and
 * compare-and-swap. Each client sends to the member it believes leads, follows `not-leader` hints,
 * and retries elsewhere only when the previous attempt definitely did nothing. An operation whose
 * fate the client cannot know (timeout, crash after it reached a log) ends as `unknown`, and the
 * client continues as a new process, as in Jepsen histories.
 */
export class Workload {
  private readonly records: OpRecord[] = [];
  private readonly clients: Client[] = [];
  private nextId = 1;
  private nextProcess: number;
  private nextValue = 1;
  private issuing = false;

  constructor(
    private readonly sched: SimScheduler,
    private readonly rng: SeededRng,
    private readonly gateway: ClientGateway,
    private readonly options: WorkloadOptions,
    private readonly trace: ((who: string, what: string) => void) | null = null,
  ) {
    for (let i = 0; i < options.clients; i++) {
      this.clients.push({
        index: i,
        process: i,
        target: pick(rng, gateway.members),
        current: null,
        attempt: 0,
        outstanding: false,
        seen: new Map(),
        lastOkInvoke: -1,
      });
    }
    this.nextProcess = options.clients;
  }

  /** Starts every client after a short random delay. */
  start(): void {
    this.issuing = true;
    for (const c of this.clients) this.sched.after(uniform(this.rng, 0, 20), () => this.issue(c));
  }

  /** Clients finish their current operation and issue no more. */
  stop(): void {
    this.issuing = false;
  }

  /** True when every client has had an operation invoked at or after `t` complete ok. */
  allOkSince(t: number): boolean {
    return this.clients.every((c) => c.lastOkInvoke >= t);
  }

  get stats(): WorkloadStats {
    const s: WorkloadStats = { ok: 0, fail: 0, unknown: 0, pending: 0 };
    for (const r of this.records) s[r.status]++;
    return s;
  }

  /** The history in the checker's format; operations still pending count as unknown. */
  history(): Operation[] {
    return this.records.map(toOperation);
  }

  private key(): string {
    return `k${this.rng.int(this.options.keys)}`;
  }

  private makeOp(c: Client, key: string): RegisterOp {
    const r = this.rng.int(100);
    if (r < 35) return { kind: 'get' };
    const value = `v${this.nextValue++}`;
    if (r < 70) return { kind: 'put', value };
    // Mostly expect what this client last saw, so that some swaps succeed.
    const seen = c.seen.get(key);
    const expected =
      seen !== undefined && chance(this.rng, 0.75) ? seen : chance(this.rng, 0.5) ? null : 'v1';
    return { kind: 'cas', expected, value };
  }

  /**
   * A transaction on the group of `key`: write every key of it, read every key of it, or swap one
   * key from the value this client last saw while writing the others (reading them all if the swap
   * fails). Values are unique, as for single-key writes.
   */
  private makeTxn(c: Client, key: string): TxnCommand {
    const first = Number(key.slice(1)) - (Number(key.slice(1)) % 3);
    const group: string[] = [];
    for (let i = first; i < Math.min(first + 3, this.options.keys); i++) group.push(`k${i}`);
    const gets: TxnStep[] = group.map((k) => ({ kind: 'get', key: k }));
    const puts = (): TxnStep[] => group.map((k) => ({ kind: 'put', key: k, value: `v${this.nextValue++}` }));
    const r = this.rng.int(3);
    if (r === 0) return { kind: 'txn', compare: [], success: puts(), failure: [] };
    if (r === 1) return { kind: 'txn', compare: [], success: gets, failure: [] };
    const seen = c.seen.get(key) ?? null;
    return {
      kind: 'txn',
      compare: [
        seen === null
          ? { key, target: 'exists', op: '=', value: false }
          : { key, target: 'value', op: '=', value: seen },
      ],
      success: puts(),
      failure: gets,
    };
  }

  private issue(c: Client): void {
    if (!this.issuing || c.current !== null) return;
    const key = this.key();
    const txns = this.options.txns ?? 0;
    const rec: OpRecord = {
      id: this.nextId++,
      process: c.process,
      client: c.index,
      key,
      // No draw at all when transactions are off: the default run stays byte-identical.
      op: txns > 0 && chance(this.rng, txns) ? this.makeTxn(c, key) : this.makeOp(c, key),
      invoke: this.sched.now(),
      complete: null,
      status: 'pending',
      result: null,
    };
    this.records.push(rec);
    c.current = rec;
    this.trace?.(`c${c.index}`, `invoke #${rec.id} p${rec.process} ${key} ${describeOp(rec.op)}`);
    const data = encodeCommand({ id: rec.id, key, op: rec.op });
    this.sched.after(this.options.opTimeoutMs, () => {
      if (c.current !== rec) return;
      // Every attempt was answered with a definite "no": the operation never happened.
      this.finish(c, rec, c.outstanding || this.gateway.appended(rec.id) ? 'unknown' : 'fail', null);
    });
    this.send(c, rec, data);
  }

  private send(c: Client, rec: OpRecord, data: Uint8Array): void {
    if (c.current !== rec) return;
    const attempt = ++c.attempt;
    const node = c.target;
    c.outstanding = true;
    const reply = (o: ProposeOutcome<RegisterResult>): void => {
      this.sched.after(this.options.latencyMs, () => {
        if (c.current === rec && c.attempt === attempt) this.onReply(c, rec, data, node, o);
      });
    };
    const read = rec.op.kind === 'get' ? this.options.reads : 'log';
    const sent =
      read === 'unsafe-local' && this.gateway.readLocally !== undefined
        ? this.gateway.readLocally(node, rec.key, reply)
        : read === 'read-index' && this.gateway.read !== undefined
          ? this.gateway.read(node, rec.key, reply)
          : this.gateway.propose(node, data, reply);
    if (!sent) {
      c.outstanding = false;
      this.retry(c, rec, data, null);
    }
  }

  private onReply(
    c: Client,
    rec: OpRecord,
    data: Uint8Array,
    node: NodeId,
    o: ProposeOutcome<RegisterResult>,
  ): void {
    c.outstanding = false;
    if (o.ok) {
      this.finish(c, rec, 'ok', o.result);
      return;
    }
    // 'not-leader' is definite when the proposal never reached a log. 'proposal-dropped' is definite
    // either way: refused before appending, or its index now holds a different applied entry, so it
    // can never commit (State Machine Safety; the checker holds the driver to that claim). 'stopped'
    // may come after the entry left for the followers: unknown.
    const definite =
      (o.reason === 'not-leader' && !this.gateway.appended(rec.id)) || o.reason === 'proposal-dropped';
    if (!definite) {
      this.finish(c, rec, 'unknown', null);
      return;
    }
    const hint = o.reason === 'not-leader' ? o.leaderHint : null;
    this.retry(c, rec, data, hint !== null && hint !== node ? hint : null);
  }

  private retry(c: Client, rec: OpRecord, data: Uint8Array, hint: NodeId | null): void {
    c.target = hint ?? pick(this.rng, this.gateway.members);
    this.sched.after(uniform(this.rng, 2, hint === null ? 30 : 5), () => this.send(c, rec, data));
  }

  private finish(c: Client, rec: OpRecord, status: Status, result: RegisterResult | null): void {
    rec.status = status;
    rec.result = result;
    c.current = null;
    c.attempt++;
    c.outstanding = false;
    if (status === 'ok') {
      rec.complete = this.sched.now();
      c.lastOkInvoke = Math.max(c.lastOkInvoke, rec.invoke);
      if (result?.kind === 'get') c.seen.set(rec.key, result.value);
      if (rec.op.kind === 'put' || (rec.op.kind === 'cas' && result?.kind === 'cas' && result.swapped)) {
        c.seen.set(rec.key, rec.op.value);
      }
      if (rec.op.kind === 'txn' && result?.kind === 'txn') {
        let g = 0;
        for (const s of result.succeeded ? rec.op.success : rec.op.failure) {
          c.seen.set(
            s.key,
            s.kind === 'put' ? s.value : s.kind === 'get' ? (result.gets[g++] ?? null) : null,
          );
        }
      }
    } else if (status === 'fail') {
      rec.complete = this.sched.now();
    } else {
      // Jepsen's rule: a process with an indeterminate operation is never reused.
      c.process = this.nextProcess++;
    }
    this.trace?.(`c${c.index}`, `${status} #${rec.id}${result !== null ? ` ${describeResult(result)}` : ''}`);
    if (this.issuing) {
      const [lo, hi] = this.options.thinkMs;
      this.sched.after(uniform(this.rng, lo, hi), () => this.issue(c));
    }
  }
}

function describeOp(op: RegisterOp): string {
  switch (op.kind) {
    case 'get':
      return 'get';
    case 'put':
      return `put ${op.value}`;
    case 'cas':
      return `cas ${op.expected ?? 'null'}->${op.value}`;
    case 'txn': {
      const steps = (b: readonly TxnStep[]): string =>
        b.map((s) => (s.kind === 'put' ? `put ${s.key} ${s.value}` : `${s.kind} ${s.key}`)).join(',');
      const compare = op.compare.map((c) => `${c.key}${c.op}${String(c.value)}`).join(',');
      return `txn [${compare}] then ${steps(op.success)} else ${steps(op.failure)}`;
    }
  }
}

function describeResult(r: RegisterResult): string {
  switch (r.kind) {
    case 'put':
      return '';
    case 'get':
      return `-> ${r.value ?? 'null'}`;
    case 'cas':
      return `-> ${r.swapped}`;
    case 'txn':
      return `-> ${r.succeeded ? 'then' : 'else'} [${r.gets.map((v) => v ?? 'null').join(',')}]`;
    case 'invalid':
      return 'invalid command';
  }
}

/** Microsecond resolution, rounded outward: a wider interval can hide a violation, never invent one. */
const floorUs = (t: number): number => Math.floor(t * 1000) / 1000;
const ceilUs = (t: number | null): number | null => (t === null ? null : Math.ceil(t * 1000) / 1000);

function toOperation(r: OpRecord): Operation {
  if (r.op.kind === 'txn') {
    const base = { id: r.id, process: r.process, op: r.op, invoke: floorUs(r.invoke) };
    if (r.status === 'ok' && r.result?.kind === 'txn') {
      const result = { succeeded: r.result.succeeded, gets: r.result.gets };
      return { ...base, complete: ceilUs(r.complete), outcome: { status: 'ok', result } };
    }
    if (r.status === 'fail') return { ...base, complete: ceilUs(r.complete), outcome: { status: 'fail' } };
    return { ...base, complete: null, outcome: { status: 'unknown' } };
  }
  const base = { id: r.id, process: r.process, key: r.key, invoke: floorUs(r.invoke) };
  const unknown = { ...base, complete: null, outcome: { status: 'unknown' } } as const;
  const failed = { ...base, complete: ceilUs(r.complete), outcome: { status: 'fail' } } as const;
  const res = r.result;
  switch (r.op.kind) {
    case 'put':
      if (r.status === 'ok' && res?.kind === 'put') {
        return { ...base, op: r.op, complete: ceilUs(r.complete), outcome: { status: 'ok' } };
      }
      return r.status === 'fail' ? { ...failed, op: r.op } : { ...unknown, op: r.op };
    case 'get':
      if (r.status === 'ok' && res?.kind === 'get') {
        return {
          ...base,
          op: r.op,
          complete: ceilUs(r.complete),
          outcome: { status: 'ok', result: res.value },
        };
      }
      return r.status === 'fail' ? { ...failed, op: r.op } : { ...unknown, op: r.op };
    case 'cas':
      if (r.status === 'ok' && res?.kind === 'cas') {
        return {
          ...base,
          op: r.op,
          complete: ceilUs(r.complete),
          outcome: { status: 'ok', result: res.swapped },
        };
      }
      return r.status === 'fail' ? { ...failed, op: r.op } : { ...unknown, op: r.op };
  }
}
