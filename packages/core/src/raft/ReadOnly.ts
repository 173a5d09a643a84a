import type { NodeId, ReadState } from './types.js';

/** A read some member (this one or a follower that forwarded it) asked the leader for. */
interface ReadRequest {
  readonly from: NodeId;
  readonly context: number;
}

/** A read waiting for a heartbeat round to confirm leadership. */
interface PendingRead extends ReadRequest {
  /** The commit index when the read arrived: what the reader may see once released. */
  readonly index: number;
  /** The first round that started after the read arrived; a quorum's ack of it releases the read. */
  readonly round: number;
}

/**
 * Answers a read: to this member's own Ready (`self`), or as a readIndexResp to the follower that
 * forwarded it (`reject` when the leader cannot serve it).
 */
export type ReadResponder = (to: NodeId, context: number, index: number, reject: boolean) => void;

/**
 * Linearizable reads without log entries (dissertation §6.4), the leader's side, like etcd's
 * `read_only.go`: the ReadIndex queue, the numbered heartbeat rounds that confirm leadership, and
 * the lease (§6.4.1) those rounds extend. Every leader heartbeat broadcast is a round; a read is
 * released once a quorum has acknowledged a round that started after the read arrived. The engine
 * owns the inputs (who leads, what is committed); this module only keeps the books.
 */
export class ReadOnly {
  /** Outcomes for this member's own reads, drained into the next Ready. */
  private states: ReadState[] = [];
  private pending: PendingRead[] = [];
  /** Reads that arrived before the leader committed an entry of its term (§6.4 step 1). */
  private awaitingTermCommit: ReadRequest[] = [];
  private round = 0;
  private confirmedRound = 0;
  private needRound = false;
  /** When (in leader ticks) each unconfirmed round was sent: the lease runs from there. */
  private readonly roundSentAt = new Map<number, number>();
  /** Ticks since this node took office (the leader's lease clock). */
  private leaderTicks = 0;
  private leaseUntil = 0;
  /** Set once this leader sent TimeoutNow: its lease is void for the rest of its term. */
  private leaseRevoked = false;

  constructor(
    private readonly id: NodeId,
    private readonly lease: { readonly on: boolean; readonly ticks: number },
    private readonly respond: ReadResponder,
  ) {}

  /** A new term of office: rounds and lease start over. */
  reset(): void {
    this.round = 0;
    this.confirmedRound = 0;
    this.roundSentAt.clear();
    this.leaderTicks = 0;
    this.leaseUntil = 0;
    this.leaseRevoked = false;
  }

  /** One tick of the leader's lease clock. */
  tick(): void {
    this.leaderTicks++;
  }

  /** The latest round sent: a heartbeat response naming a later one is bogus. */
  get lastRound(): number {
    return this.round;
  }

  /** Whether a read waits for a round that has not been sent yet. */
  get roundWanted(): boolean {
    return this.needRound;
  }

  /** Takes the request for a round (the caller sends one if it still leads). */
  takeRoundWanted(): boolean {
    const wanted = this.needRound;
    this.needRound = false;
    return wanted;
  }

  /** Starts a heartbeat round; its number is the heartbeats' context. */
  startRound(): number {
    this.round++;
    this.roundSentAt.set(this.round, this.leaderTicks);
    this.needRound = false;
    return this.round;
  }

  /**
   * A read arrives at the leader. `committed` is the commit index, or null when no entry of the
   * leader's term is committed yet: until then the leader does not know its predecessor's commit
   * index and the read waits (§6.4 step 1). `confirmed`: leadership needs no round (a single
   * voter, or a valid lease).
   */
  request(from: NodeId, context: number, committed: number | null, confirmed: boolean): void {
    if (committed === null) {
      this.awaitingTermCommit.push({ from, context });
      return;
    }
    if (confirmed) {
      this.release(from, context, committed);
      return;
    }
    // Steps 2-3: confirm leadership with a heartbeat round that starts after this read arrived;
    // every read that arrives before that round starts shares it.
    this.pending.push({ from, context, index: committed, round: this.round + 1 });
    this.needRound = true;
  }

  /** Takes the reads that waited for an entry of the leader's term to commit, to request again. */
  takeAwaitingTermCommit(): readonly ReadRequest[] {
    if (this.awaitingTermCommit.length === 0) return [];
    const waiting = this.awaitingTermCommit;
    this.awaitingTermCommit = [];
    return waiting;
  }

  /** Whether the lease holds (§6.4.1). `transferring`: a leader handing over serves no lease read. */
  leaseValid(transferring: boolean): boolean {
    return this.lease.on && !this.leaseRevoked && !transferring && this.leaderTicks < this.leaseUntil;
  }

  /** A leader handing over gives up its lease, so the target's election skips stickiness. */
  dropLease(): void {
    this.leaseUntil = 0;
  }

  /** TimeoutNow was sent: the target may campaign at any time, so no lease for the rest of the term. */
  revokeLease(): void {
    this.leaseRevoked = true;
  }

  /** A quorum has acknowledged every round up to `round`: extend the lease, release the reads. */
  confirm(round: number): void {
    if (round <= this.confirmedRound) return;
    this.confirmedRound = round;
    const sentAt = this.roundSentAt.get(round);
    if (sentAt !== undefined && this.lease.on) {
      // The lease runs from when the confirmed round was sent, not from when it was acknowledged.
      this.leaseUntil = Math.max(this.leaseUntil, sentAt + this.lease.ticks);
    }
    for (const key of this.roundSentAt.keys()) {
      if (key >= round) break;
      this.roundSentAt.delete(key);
    }
    let released = 0;
    while (released < this.pending.length && this.pending[released]!.round <= round) {
      const r = this.pending[released]!;
      this.release(r.from, r.context, r.index);
      released++;
    }
    if (released > 0) this.pending.splice(0, released);
  }

  /** A follower's read arrived at a member that does not lead. */
  reject(from: NodeId, context: number): void {
    this.respond(from, context, 0, true);
  }

  /** The leader answered a read this member forwarded; valid whatever this member's role is now. */
  answered(context: number, index: number, reject: boolean): void {
    this.states.push(reject ? { context, ok: false, reason: 'not-leader' } : { context, ok: true, index });
  }

  /** Leadership ends: no pending read may be served any more (it could be stale). */
  failAll(): void {
    const all = [...this.awaitingTermCommit, ...this.pending];
    this.awaitingTermCommit = [];
    this.pending = [];
    for (const r of all) {
      if (r.from === this.id) {
        this.states.push({ context: r.context, ok: false, reason: 'leadership-lost' });
      } else {
        this.reject(r.from, r.context);
      }
    }
  }

  /** Whether outcomes wait for the next Ready. */
  hasStates(): boolean {
    return this.states.length > 0;
  }

  /** The outcomes for the next Ready (an empty array when none). */
  takeStates(): ReadState[] {
    const states = this.states;
    if (states.length > 0) this.states = [];
    return states;
  }

  private release(from: NodeId, context: number, index: number): void {
    if (from === this.id) this.states.push({ context, ok: true, index });
    else this.respond(from, context, index, false);
  }
}
