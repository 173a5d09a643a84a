import { isTxn, keysOf, type Operation, type TxnStep } from '@keel/checker';
import { type KvClient, KvClientError } from '@keel/kv';
import { COUNTER_KEY } from './workload.js';

/** One event as a chaos watcher received it. */
export interface WatchedEvent {
  readonly revision: number;
  readonly type: 'put' | 'delete';
  readonly key: string;
  readonly value: string;
  readonly version: number;
  readonly createRevision: number;
}

export interface WatchCheck {
  readonly ok: boolean;
  readonly events: number;
  /** Times the watch iterator itself gave up and was started again from the next revision. */
  readonly restarts: number;
  /** Times the watch moved to another member (it resumes there by itself). */
  readonly moves: number;
  readonly from: number;
  readonly to: number;
  readonly detail: string;
  /** Every problem found (at most 20 kept), one line each. */
  readonly problems: readonly string[];
}

const decoder = new TextDecoder();
const MAX_PROBLEMS = 20;

/**
 * A watcher on the whole key space from revision 1, run beside the workload through every fault.
 * The client resumes on another member by itself; when the iterator gives up (no member reachable
 * for its deadline) the recorder starts it again from the next revision, so the stream it records
 * is still checkable as one.
 */
export class WatchRecorder {
  readonly events: WatchedEvent[] = [];
  restarts = 0;
  /** Times consecutive batches came from different members. */
  moves = 0;
  private endpoint: string | null = null;
  /** Why the watch ended for good (compacted, slow-watcher), if it did. */
  failure: string | null = null;
  private next = 1;
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;

  constructor(private readonly kv: KvClient) {}

  start(): void {
    this.running = this.loop();
  }

  /** The last revision delivered (every event up to it is in `events`). */
  get revision(): number {
    return this.next - 1;
  }

  private async loop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        const stream = this.kv.watch('', {
          prefix: true,
          fromRevision: this.next,
          progress: true,
          progressMs: 500,
          signal: this.abort.signal,
        });
        for await (const batch of stream) {
          if (this.endpoint !== null && batch.endpoint !== this.endpoint) this.moves++;
          this.endpoint = batch.endpoint;
          for (const e of batch.events) {
            this.events.push({
              revision: e.kv.modRevision,
              type: e.type,
              key: decoder.decode(e.kv.key),
              value: decoder.decode(e.kv.value),
              version: e.kv.version,
              createRevision: e.kv.createRevision,
            });
          }
          this.next = batch.revision + 1;
        }
      } catch (err) {
        const code = err instanceof KvClientError ? err.code : 'other';
        if (code === 'KEEL_CLIENT_UNAVAILABLE' || code === 'KEEL_CLIENT_TIMEOUT') {
          this.restarts++;
          continue;
        }
        this.failure = `${code}: ${(err as Error).message}`;
        return;
      }
    }
  }

  /** Waits until the watch delivered `revision` (or failed), for at most `ms`; then stops it. */
  async stopAt(revision: number, ms: number): Promise<void> {
    const deadline = performance.now() + ms;
    while (this.revision < revision && this.failure === null && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    this.abort.abort();
    await this.running;
  }
}

/** The value an operation wrote, when it may have written one (acknowledged or indeterminate). */
/** The (key, value) pairs `o` may have written: all of them, unless it failed. */
function mayHaveWritten(o: Operation): [string, string][] {
  if (o.outcome.status === 'fail') return [];
  if (isTxn(o)) {
    if (o.outcome.status === 'ok') return puts(o.outcome.result.succeeded ? o.op.success : o.op.failure);
    return [...puts(o.op.success), ...puts(o.op.failure)];
  }
  if (o.op.kind === 'put') return [[o.key, o.op.value]];
  if (o.op.kind === 'cas' && (o.outcome.status === 'unknown' || o.outcome.result === true))
    return [[o.key, o.op.value]];
  return [];
}

/** The (key, value) pairs `o` certainly wrote: acknowledged puts, swaps, and transactions' puts. */
function acknowledgedWrites(o: Operation): [string, string][] {
  if (o.outcome.status !== 'ok') return [];
  if (isTxn(o)) return puts(o.outcome.result.succeeded ? o.op.success : o.op.failure);
  if (o.op.kind === 'put' || (o.op.kind === 'cas' && o.outcome.result === true)) return [[o.key, o.op.value]];
  return [];
}

function puts(steps: readonly TxnStep[]): [string, string][] {
  return steps.flatMap((s): [string, string][] => (s.kind === 'put' ? [[s.key, s.value]] : []));
}

/**
 * Judges a watcher's stream against what the cluster committed. The watch covers every key, and
 * every revision is one event, or one per key a transaction wrote (its writes share a revision),
 * so the stream must hold revisions `from..to` each once (a transaction's: once per key), in
 * order: no gap, no duplicate, no reordering. Its contents must be the committed writes: per key,
 * versions count up from 1 and the create revision stays put; every acknowledged write appears,
 * exactly once; nothing appears that no operation may have written; the counter's events are 1, 2,
 * 3, ... (each increment adds 1); each key's last event is what the final read returned.
 */
export function checkWatchStream(
  events: readonly WatchedEvent[],
  from: number,
  to: number,
  history: readonly Operation[],
  finalReads: ReadonlyMap<string, Operation>,
  failure: string | null = null,
  restarts = 0,
  moves = 0,
): WatchCheck {
  const problems: string[] = [];
  const problem = (p: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  if (failure !== null) problem(`the watch ended: ${failure}`);
  let expect = from;
  // The keys delivered at the latest revision: a transaction's writes share one revision, one
  // event per key.
  const keysAtRevision = new Set<string>();
  for (const e of events) {
    if (e.revision === expect - 1 && expect > from) {
      if (keysAtRevision.has(e.key)) problem(`revision ${e.revision} delivered again (key ${e.key})`);
      keysAtRevision.add(e.key);
    } else {
      if (e.revision !== expect) {
        problem(
          e.revision < expect
            ? `revision ${e.revision} delivered again or out of order (expected ${expect})`
            : `revisions ${expect}..${e.revision - 1} missing (gap)`,
        );
      }
      keysAtRevision.clear();
      keysAtRevision.add(e.key);
    }
    expect = Math.max(expect, e.revision + 1);
  }
  if (expect <= to) problem(`the watch stopped at revision ${expect - 1}, the cluster is at ${to}`);

  const keys = new Map<string, { version: number; createRevision: number; value: string | null }>();
  const possible = new Map<string, Set<string>>();
  for (const o of history) {
    for (const [key, v] of mayHaveWritten(o)) {
      const set = possible.get(key) ?? new Set<string>();
      possible.set(key, set);
      set.add(v);
    }
  }
  const seen = new Map<string, Map<string, number>>();
  let counter = 0;
  for (const e of events) {
    const k = keys.get(e.key) ?? { version: 0, createRevision: 0, value: null };
    if (e.type === 'delete') {
      keys.set(e.key, { version: 0, createRevision: 0, value: null });
      continue;
    }
    const version = k.version + 1;
    const createRevision = k.version === 0 ? e.revision : k.createRevision;
    if (e.version !== version || e.createRevision !== createRevision) {
      problem(
        `${e.key}@${e.revision}: version ${e.version} / created ${e.createRevision}, expected ${version} / ${createRevision}`,
      );
    }
    keys.set(e.key, { version, createRevision, value: e.value });
    if (e.key === COUNTER_KEY) {
      if (e.value !== String(++counter)) problem(`counter@${e.revision} is ${e.value}, expected ${counter}`);
      continue;
    }
    const may = possible.get(e.key);
    if (may === undefined) continue; // not a workload key (the probe)
    if (!may.has(e.value)) problem(`${e.key}@${e.revision}: ${JSON.stringify(e.value)} was never written`);
    const byValue = seen.get(e.key) ?? new Map<string, number>();
    seen.set(e.key, byValue);
    byValue.set(e.value, (byValue.get(e.value) ?? 0) + 1);
  }
  for (const o of history) {
    for (const [key, value] of acknowledgedWrites(o)) {
      const n = seen.get(key)?.get(value) ?? 0;
      if (n !== 1)
        problem(`acknowledged write #${o.id} (${key} = ${JSON.stringify(value)}) seen ${n} time(s)`);
    }
  }
  // An indeterminate write may still land after the final read: such keys are not compared.
  const unsettled = new Set(history.filter((o) => o.outcome.status === 'unknown').flatMap((o) => keysOf(o)));
  for (const [key, read] of finalReads) {
    if (read.outcome.status !== 'ok' || unsettled.has(key)) continue;
    const final = read.outcome.result as string | null;
    const last = keys.get(key)?.value ?? null;
    if (final !== last)
      problem(
        `${key}: the final read is ${JSON.stringify(final)}, the watch ends at ${JSON.stringify(last)}`,
      );
  }
  const ok = problems.length === 0;
  const detail = ok
    ? `${events.length} events, revisions ${from}..${to}, each once and in order; moved between members ${moves} time(s)${restarts > 0 ? `, restarted ${restarts} time(s)` : ''}`
    : problems[0]!;
  return { ok, events: events.length, restarts, moves, from, to, detail, problems };
}
