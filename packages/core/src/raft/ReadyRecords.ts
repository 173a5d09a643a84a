import type { RaftLog } from './RaftLog.js';
import type { Entry, HardState, Message, NodeId, Role, SnapshotMeta, SoftState } from './types.js';

const EMPTY: readonly never[] = Object.freeze([]);

/** What one Ready asked the driver to write, kept until `persisted` covers its number. */
interface ReadyRecord {
  readonly number: number;
  /** Last entry carried by that Ready, or index -1 when it carried none. */
  readonly index: number;
  readonly term: number;
  readonly hardState: HardState | null;
  /** The snapshot that Ready installed, if any. */
  readonly snapshot: { readonly index: number; readonly term: number } | null;
}

/** The bookkeeping half of one Ready: its number, state changes and messages. */
export interface ReadyHead {
  readonly number: number;
  readonly hardState: HardState | null;
  readonly softState: SoftState | null;
  readonly messages: readonly Message[];
  readonly messagesAfterPersist: readonly Message[];
}

/**
 * The numbered Readys (raft-rs's `on_persist_ready(number)`): the messages collected for the next
 * Ready, the hard and soft state last handed out, and a record of each Ready's writes until the
 * driver reports them durable. Which message waits for durability is `Raft.send`'s decision;
 * this only keeps the two queues.
 */
export class ReadyRecords {
  private readyNumber = 0;
  private readonly unpersisted: ReadyRecord[] = [];
  private msgs: Message[] = [];
  private msgsAfterPersist: Message[] = [];
  private emittedHardState: HardState;
  private emittedSoftState: SoftState;

  constructor(hardState: HardState, softState: SoftState) {
    this.emittedHardState = hardState;
    this.emittedSoftState = softState;
  }

  /** A message that may leave at once. */
  send(m: Message): void {
    this.msgs.push(m);
  }

  /** A message that promises durable state: it leaves once its Ready is persisted. */
  sendAfterPersist(m: Message): void {
    this.msgsAfterPersist.push(m);
  }

  hasMessages(): boolean {
    return this.msgs.length > 0 || this.msgsAfterPersist.length > 0;
  }

  /** The hard state for these values: the one last handed out when equal, so no allocation. */
  hardState(term: number, vote: NodeId | null, commit: number): HardState {
    const e = this.emittedHardState;
    if (e.term === term && e.vote === vote && e.commit === commit) return e;
    return { term, vote, commit };
  }

  /** The soft state for these values: the one last handed out when equal. */
  softState(role: Role, leader: NodeId | null, term: number): SoftState {
    const e = this.emittedSoftState;
    if (e.role === role && e.leader === leader && e.term === term) return e;
    return { role, leader, term };
  }

  /** Whether term, vote, role or leader differ from what the last Ready carried. */
  changed(hs: HardState, ss: SoftState): boolean {
    return !sameVote(hs, this.emittedHardState) || !sameSoftState(ss, this.emittedSoftState);
  }

  /**
   * Numbers the next Ready, records what it writes and takes the messages collected for it.
   * `entries` are the log entries it carries, `snapshot` the snapshot it installs.
   */
  next(hs: HardState, ss: SoftState, entries: readonly Entry[], snapshot: SnapshotMeta | null): ReadyHead {
    const number = ++this.readyNumber;
    const softState = sameSoftState(ss, this.emittedSoftState) ? null : ss;
    if (softState !== null) this.emittedSoftState = softState;
    // Term and vote must be durable before votes leave; the commit index need not be (a restarted
    // node relearns it from the leader). So a commit-only change never costs a write of its own:
    // it rides along with the next entries or vote.
    const hardState =
      !sameVote(hs, this.emittedHardState) ||
      (entries.length > 0 && hs.commit !== this.emittedHardState.commit)
        ? hs
        : null;
    if (hardState !== null) this.emittedHardState = hardState;

    const lastEntry = entries.length > 0 ? entries[entries.length - 1]! : undefined;
    this.unpersisted.push({
      number,
      index: lastEntry === undefined ? -1 : lastEntry.index,
      term: lastEntry === undefined ? -1 : lastEntry.term,
      hardState,
      snapshot: snapshot === null ? null : { index: snapshot.index, term: snapshot.term },
    });

    const messages = this.msgs.length > 0 ? this.msgs : EMPTY;
    const messagesAfterPersist = this.msgsAfterPersist.length > 0 ? this.msgsAfterPersist : EMPTY;
    if (this.msgs.length > 0) this.msgs = [];
    if (this.msgsAfterPersist.length > 0) this.msgsAfterPersist = [];
    return { number, hardState, softState, messages, messagesAfterPersist };
  }

  /**
   * Everything in Readys up to `readyNumber` is durable: tells `log` which snapshots and entries
   * are stable, and returns the newest hard state those Readys wrote (null for none).
   */
  persisted(readyNumber: number, log: RaftLog): HardState | null {
    let hardState: HardState | null = null;
    const written: ReadyRecord[] = [];
    while (this.unpersisted.length > 0 && this.unpersisted[0]!.number <= readyNumber) {
      const p = this.unpersisted.shift()!;
      if (p.snapshot !== null) log.snapshotDurable(p.snapshot.index, p.snapshot.term);
      if (p.index >= 0) written.push(p);
      if (p.hardState !== null) hardState = p.hardState;
    }
    // The newest write whose last entry is still in the log marks the durable end; a write whose
    // tail a later Ready truncated no longer does.
    for (let i = written.length - 1; i >= 0; i--) {
      const p = written[i]!;
      if (log.term(p.index) === p.term) {
        log.stableTo(p.index, p.term);
        break;
      }
    }
    return hardState;
  }
}

function sameVote(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leader === b.leader && a.term === b.term;
}
