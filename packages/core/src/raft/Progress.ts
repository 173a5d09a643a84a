import { Inflights } from './Inflights.js';

/**
 * How a follower is being replicated to (etcd's tracker.Progress, trimmed to what Keel needs):
 * - probe: one AppendEntries at a time until the follower's match is found;
 * - replicate: optimistic, pipelined appends bounded by `inflights`;
 * - snapshot: the follower needs entries the leader compacted away (§7); the driver is moving a
 *   snapshot to it and no appends are sent until it reports the outcome.
 */
export const ProgressState = {
  Probe: 'probe',
  Replicate: 'replicate',
  Snapshot: 'snapshot',
} as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

export class Progress {
  /** Highest index known replicated on the follower (Figure 2's matchIndex). */
  match = 0;
  /** Next index to send (Figure 2's nextIndex). */
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** In probe state: an append is outstanding, wait for its answer or the next heartbeat. */
  probeSent = false;
  /** Heard from since the last CheckQuorum round (§6.2). */
  recentActive = false;
  /** Highest heartbeat round this follower acknowledged (leadership confirmation for reads). */
  ackedRound = 0;
  /** The commit index last sent, so a commit advance is announced once. */
  sentCommit = 0;
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightMsgs: number, maxInflightBytes: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  becomeProbe(): void {
    // After a snapshot went through, the follower holds everything up to it.
    this.next =
      this.state === ProgressState.Snapshot
        ? Math.max(this.match + 1, this.pendingSnapshot + 1)
        : this.match + 1;
    this.state = ProgressState.Probe;
    this.pendingSnapshot = 0;
    this.probeSent = false;
    this.inflights.reset();
  }

  becomeSnapshot(index: number): void {
    this.state = ProgressState.Snapshot;
    this.pendingSnapshot = index;
    this.probeSent = false;
    this.inflights.reset();
  }

  becomeReplicate(): void {
    this.state = ProgressState.Replicate;
    this.next = this.match + 1;
    this.probeSent = false;
    this.inflights.reset();
  }

  /** Whether sending more appends now would exceed the flow-control window. */
  isPaused(): boolean {
    if (this.state === ProgressState.Snapshot) return true;
    return this.state === ProgressState.Probe ? this.probeSent : this.inflights.full();
  }

  /** An acknowledgement of `index`; returns whether it moved the match forward. */
  maybeUpdate(index: number): boolean {
    if (index <= this.match) return false;
    this.match = index;
    if (this.next <= index) this.next = index + 1;
    this.probeSent = false;
    return true;
  }
}
