import { invariant } from './errors.js';
import { type Progress, ProgressState } from './Progress.js';
import type { ProgressTracker } from './ProgressTracker.js';
import type { RaftLog } from './RaftLog.js';
import type { AppRespMessage, Message, NodeId, SnapshotMeta } from './types.js';

const EMPTY: readonly never[] = Object.freeze([]);

/** What the replicator reads from and sends through the engine that owns it. */
export interface ReplicatorHost {
  readonly id: NodeId;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  /** Payload bytes per AppendEntries message. */
  readonly maxMsgBytes: number;
  /** The leader's current term. */
  term(): number;
  /** The latest local snapshot: what a follower gets when the entries it needs are compacted away. */
  snapshot(): SnapshotMeta | null;
  /** The engine's one outlet for messages (`Raft.send`). */
  send(m: Message): void;
}

/**
 * The leader's log replication (Figure 2's AppendEntries, §5.3, and §7 for followers that need a
 * snapshot), shaped by each follower's `Progress`: what to send next, how much may be in flight,
 * and where to go back to after a rejection. It decides nothing about commitment or roles.
 */
export class Replicator {
  constructor(private readonly host: ReplicatorHost) {}

  /**
   * Sends as many AppendEntries to `to` as flow control allows: one probe in probe state, a
   * pipeline of messages up to the in-flight window in replicate state. Returns whether it sent.
   */
  sendAppend(to: NodeId, pr: Progress): boolean {
    const { log } = this.host;
    let sent = false;
    const last = log.lastIndex();
    while (!pr.isPaused()) {
      if (pr.state === ProgressState.Replicate && pr.next > last) break;
      const prevIndex = pr.next - 1;
      const prevTerm = log.term(prevIndex);
      if (prevTerm < 0 || pr.next < log.firstIndex()) {
        // §7: the entries this follower needs were compacted away; it gets the snapshot instead.
        this.sendSnapshot(to, pr);
        return true;
      }
      const entries = log.slice(pr.next, last + 1, this.host.maxMsgBytes);
      const commit = log.committed;
      this.host.send({
        type: 'app',
        from: this.host.id,
        to,
        term: this.host.term(),
        prevIndex,
        prevTerm,
        entries,
        commit,
      });
      pr.sentCommit = commit;
      sent = true;
      if (pr.state === ProgressState.Replicate) {
        if (entries.length === 0) break;
        const lastSent = entries[entries.length - 1]!.index;
        let bytes = 0;
        for (const e of entries) bytes += e.data.length;
        pr.inflights.add(lastSent, bytes);
        pr.next = lastSent + 1;
      } else {
        pr.probeSent = true;
      }
    }
    return sent;
  }

  /** An AppendEntries with no entries: announces the commit index, or probes where `pr` stands. */
  sendEmptyAppend(to: NodeId, pr: Progress): void {
    const { log } = this.host;
    const prevIndex = pr.next - 1;
    const prevTerm = log.term(prevIndex);
    if (prevTerm < 0) return;
    const commit = log.committed;
    this.host.send({
      type: 'app',
      from: this.host.id,
      to,
      term: this.host.term(),
      prevIndex,
      prevTerm,
      entries: EMPTY,
      commit,
    });
    pr.sentCommit = commit;
  }

  /**
   * New entries for every follower, as flow control allows, and the commit index with them. A
   * follower with nothing new to receive gets a commit-only append, unless `announceCommit` is
   * false: then it is left for later and the result says whether one was owed.
   */
  broadcastAppend(announceCommit = true): boolean {
    const { log, tracker } = this.host;
    let owed = false;
    for (const p of tracker.peers) {
      const pr = tracker.get(p)!;
      const sentAny = this.sendAppend(p, pr);
      if (!sentAny && pr.sentCommit < log.committed && pr.match >= log.committed) {
        // Nothing new to send but the commit index moved: tell the follower so it can apply.
        if (announceCommit) this.sendEmptyAppend(p, pr);
        else owed = true;
      }
    }
    return owed;
  }

  /** One heartbeat per follower, numbered `context` (the read round). */
  broadcastHeartbeat(context: number): void {
    const { log, tracker } = this.host;
    for (const p of tracker.peers) {
      const pr = tracker.get(p)!;
      // min(match, commit): a follower never learns a commit index beyond what it shares with us.
      const commit = Math.min(pr.match, log.committed);
      // The follower applies this commit index as from an append: no announcement owed for it.
      if (commit > pr.sentCommit) pr.sentCommit = commit;
      this.host.send({
        type: 'heartbeat',
        from: this.host.id,
        to: p,
        term: this.host.term(),
        commit,
        context,
      });
    }
  }

  /** Moves `next` back after a rejection using the follower's hint. Returns false for stale rejections. */
  backtrack(m: AppRespMessage, pr: Progress): boolean {
    const { log } = this.host;
    const rejected = m.index;
    if (pr.state === ProgressState.Replicate) {
      if (rejected <= pr.match) return false;
      pr.becomeProbe();
    } else if (rejected !== pr.next - 1) {
      return false;
    }
    let next: number;
    if (m.hintTerm > 0) {
      // If we hold entries of the follower's conflicting term, our last one of them is where the
      // logs may still agree; otherwise skip the follower's whole run of that term.
      const at = log.lastIndexWithTermAtMost(rejected, m.hintTerm);
      next = log.term(at) === m.hintTerm ? at + 1 : m.hintIndex;
    } else {
      next = m.hintIndex;
    }
    pr.next = Math.max(pr.match + 1, Math.min(next, rejected));
    pr.probeSent = false;
    return true;
  }

  /** A heartbeat response from a follower that is behind: resend what it may have lost. */
  catchUp(to: NodeId, pr: Progress): void {
    const last = this.host.log.lastIndex();
    if (pr.match >= last || pr.state === ProgressState.Snapshot) return;
    if (pr.state === ProgressState.Probe) {
      pr.probeSent = false;
      this.sendAppend(to, pr);
      return;
    }
    // Replicate state with the follower behind: appends may have been lost. Let one more message
    // through a full window, and when everything was already sent, probe the end of what we sent:
    // a follower that lacks it rejects, which drops it back to probe state.
    if (pr.inflights.full()) pr.inflights.freeFirst();
    if (!this.sendAppend(to, pr)) this.sendEmptyAppend(to, pr);
  }

  private sendSnapshot(to: NodeId, pr: Progress): void {
    const meta = this.host.snapshot();
    const { log } = this.host;
    invariant(
      meta !== null && meta.index >= log.firstIndex() - 1,
      `${to} needs entry ${pr.next} but the log starts at ${log.firstIndex()} and no snapshot covers the gap`,
    );
    pr.becomeSnapshot(meta.index);
    this.host.send({ type: 'snapshot', from: this.host.id, to, term: this.host.term(), meta });
  }
}
