import { type ConfState, type Entry, EntryType, type ReadState } from '../raft/types.js';
import type { Scheduler, TimerHandle } from './interfaces.js';
import type { ConfChangeOutcome, ProposeOutcome, ReadOutcome } from './RaftNode.js';

interface IndexWaiter<O> {
  /** The term the entry was proposed in: another term at that index means a newer leader replaced it. */
  readonly term: number;
  readonly done: (o: O) => void;
}

/**
 * Everyone waiting on the driver, like etcd's `wait` registry: proposals and membership changes
 * keyed by the index of their entry, reads keyed by the context handed to the engine until the
 * leader confirms them, then by read index until the local apply reaches it. Each waiter is
 * answered exactly once: by the outcome, a timeout (reads), a snapshot that replaced its entry,
 * or `stopAll`.
 */
export class PendingRequests<R> {
  /** Proposals waiting for their entry to be applied, by index. */
  private readonly proposals = new Map<number, IndexWaiter<ProposeOutcome<R>>>();
  /** Membership changes waiting for their Config entry to be applied, by index. */
  private readonly confChanges = new Map<number, IndexWaiter<ConfChangeOutcome>>();
  private readCounter = 0;
  /** Reads waiting for the leader's confirmation, by context. */
  private readonly reads = new Map<number, { done: (o: ReadOutcome) => void; timer: TimerHandle }>();
  /** Confirmed reads waiting for the local apply to reach their index, oldest first. */
  private readonly readsAwaitingApply: { index: number; done: (o: ReadOutcome) => void }[] = [];

  constructor(
    private readonly scheduler: Scheduler,
    private readonly readTimeoutMs: number,
    /** The configuration a Config entry at `index` made: what a membership change reports. */
    private readonly confAt: (index: number) => ConfState,
  ) {}

  addProposal(index: number, term: number, done: (o: ProposeOutcome<R>) => void): void {
    this.proposals.set(index, { term, done });
  }

  addConfChange(index: number, term: number, done: (o: ConfChangeOutcome) => void): void {
    this.confChanges.set(index, { term, done });
  }

  /** A fresh context for the engine's `readIndex`, unique among this node's pending reads. */
  nextReadContext(): number {
    return ++this.readCounter;
  }

  /** Waits for the engine's answer to read `context`; times out after `readTimeoutMs`. */
  addRead(context: number, done: (o: ReadOutcome) => void): void {
    const timer = this.scheduler.setTimeout(() => {
      const w = this.reads.get(context);
      if (w === undefined) return;
      this.reads.delete(context);
      w.done({ ok: false, reason: 'timeout', message: `read not confirmed within ${this.readTimeoutMs} ms` });
    }, this.readTimeoutMs);
    this.reads.set(context, { done, timer });
  }

  /** The engine's answer to a read: served at once if `applied` reached its index, else once it does. */
  readState(rs: ReadState, applied: number): void {
    const w = this.reads.get(rs.context);
    if (w === undefined) return; // timed out already
    this.reads.delete(rs.context);
    this.scheduler.clearTimeout(w.timer);
    if (!rs.ok) {
      const message = rs.reason === 'not-leader' ? 'the leader refused the read' : 'leadership was lost';
      w.done({ ok: false, reason: 'leadership-lost', message });
    } else if (rs.index <= applied) {
      w.done({ ok: true, index: rs.index });
    } else {
      this.awaitApply(rs.index, w.done);
    }
  }

  /** Entry `e` was applied (with the state machine's `result` for a Normal entry): answer its proposer. */
  applied(e: Entry, result: R | undefined): void {
    // Whatever kind of entry a newer leader put at the index (a command, its no-op), the change is gone.
    const cw = this.confChanges.get(e.index);
    if (cw !== undefined) {
      this.confChanges.delete(e.index);
      if (cw.term === e.term && e.type === EntryType.Config)
        cw.done({ ok: true, index: e.index, conf: this.confAt(e.index) });
      else cw.done(replaced(e.index));
    }
    const w = this.proposals.get(e.index);
    if (w !== undefined) {
      this.proposals.delete(e.index);
      if (w.term === e.term) w.done({ ok: true, index: e.index, result: result as R });
      else w.done(replaced(e.index));
    }
  }

  /** The local apply reached `applied`: serve the confirmed reads up to it. */
  serveReads(applied: number): void {
    const q = this.readsAwaitingApply;
    let served = 0;
    while (served < q.length && q[served]!.index <= applied) served++;
    if (served > 0) for (const r of q.splice(0, served)) r.done({ ok: true, index: r.index });
  }

  /** A snapshot replaced the log up to `index`: whatever waited for an entry it covers will not be applied here. */
  snapshotInstalled(index: number): void {
    const message = `a snapshot replaced the log up to ${index}; outcome unknown`;
    for (const [at, w] of this.proposals) {
      if (at > index) continue;
      this.proposals.delete(at);
      w.done({ ok: false, reason: 'stopped', message });
    }
    for (const [at, w] of this.confChanges) {
      if (at > index) continue;
      this.confChanges.delete(at);
      w.done({ ok: false, reason: 'stopped', message });
    }
  }

  /** The node stops: every waiter is answered `stopped`. */
  stopAll(): void {
    const stopped = () => ({ ok: false, reason: 'stopped', message: 'the node stopped' }) as const;
    const proposals = [...this.proposals.values()];
    this.proposals.clear();
    for (const w of proposals) w.done(stopped());
    const confChanges = [...this.confChanges.values()];
    this.confChanges.clear();
    for (const w of confChanges) w.done(stopped());
    const reads = [...this.reads.values()].map((r) => r.done);
    for (const r of this.reads.values()) this.scheduler.clearTimeout(r.timer);
    this.reads.clear();
    for (const r of this.readsAwaitingApply.splice(0)) reads.push(r.done);
    for (const done of reads) done(stopped());
  }

  private awaitApply(index: number, done: (o: ReadOutcome) => void): void {
    const q = this.readsAwaitingApply;
    let at = q.length;
    while (at > 0 && q[at - 1]!.index > index) at--;
    q.splice(at, 0, { index, done });
  }
}

function replaced(index: number): { ok: false; reason: 'proposal-dropped'; message: string } {
  return { ok: false, reason: 'proposal-dropped', message: `entry ${index} was replaced by a newer leader` };
}
