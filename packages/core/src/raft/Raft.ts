import type { RaftConfig } from './config.js';
import { RaftCore } from './RaftCore.js';
import type { RaftLog } from './RaftLog.js';
import type { LogStorage } from './storage.js';
import type {
  ConfChange,
  ConfChangeResult,
  ConfState,
  HardState,
  Message,
  NodeId,
  ProposeResult,
  Ready,
  Rejection,
  Role,
  SnapshotMeta,
  SoftState,
  TransferResult,
} from './types.js';

/**
 * The Raft engine: a deterministic state machine. Inputs are `step` (a peer message), `tick`
 * (logical time), `propose`, and the completions `persisted` and `applied`; effects come out of
 * `ready()`. It never blocks, sleeps, reads a clock or does I/O, so one seed replays one run.
 *
 * This is the engine's public face (like etcd's RawNode over its raft struct): every input and
 * every read-only view, and nothing that lets a caller change state except through an input. The
 * state and the step core live in `RaftCore.ts`, each role's step function in `election.ts`,
 * `follower.ts` and `leader.ts`. See `RaftCore` for what each input does.
 */
export class Raft {
  readonly id: NodeId;
  /** The log as the engine sees it (read its indexes; the engine alone changes it). */
  readonly log: RaftLog;
  readonly #core: RaftCore;

  /**
   * `snapshot`: the meta of the latest local snapshot, which the state machine was restored from
   * (null for none). The configuration comes from the latest of that snapshot and the Config
   * entries in the log; `config.voters` only bootstraps a member that has neither.
   */
  constructor(config: RaftConfig, storage: LogStorage, snapshot: SnapshotMeta | null = null) {
    this.#core = new RaftCore(config, storage, snapshot);
    this.id = this.#core.id;
    this.log = this.#core.log;
  }

  /** The current term (Figure 2's currentTerm). */
  get term(): number {
    return this.#core.term;
  }

  /** Whom this node voted for in the current term (Figure 2's votedFor), or null. */
  get vote(): NodeId | null {
    return this.#core.vote;
  }

  /** This node's role. */
  get role(): Role {
    return this.#core.role;
  }

  /** The leader of the current term as far as this node knows, or null. */
  get leader(): NodeId | null {
    return this.#core.leader;
  }

  /** The latest local snapshot's meta, or null. */
  get snapshot(): SnapshotMeta | null {
    return this.#core.snapshot;
  }

  /** The minimum election timeout in ticks (T; timeouts are drawn from [T, 2T)). */
  get electionTimeoutTicks(): number {
    return this.#core.electionTimeoutTicks;
  }

  /** The member leadership is being transferred to, if a transfer is under way. */
  get transferee(): NodeId | null {
    return this.#core.transferee;
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs

  /** Advances logical time by one tick. */
  tick(): void {
    this.#core.tick();
  }

  /** Handles a message from a peer. Messages for another node or from an unknown one are ignored. */
  step(m: Message): void {
    this.#core.step(m);
  }

  /** Proposes commands (leader only); entries leave at the next `ready()`, batched. */
  propose(data: Uint8Array | readonly Uint8Array[]): ProposeResult {
    return this.#core.propose(data);
  }

  /** Starts an election now (as if the election timer fired). */
  campaign(): void {
    this.#core.campaign();
  }

  /** Starts a linearizable read (§6.4); the outcome arrives in a later Ready's `readStates`. */
  readIndex(context: number): { readonly ok: true } | Rejection {
    return this.#core.readIndex(context);
  }

  /** Leadership transfer (dissertation §3.10). */
  transferLeader(to: NodeId): TransferResult {
    return this.#core.transferLeader(to);
  }

  /** Proposes a single-server membership change (dissertation §4.1). */
  proposeConfChange(cc: ConfChange): ConfChangeResult {
    return this.#core.proposeConfChange(cc);
  }

  /** The driver saved a snapshot of the state machine up to `meta.index` (§7). */
  snapshotTaken(meta: SnapshotMeta): void {
    this.#core.snapshotTaken(meta);
  }

  /** The driver's outcome of moving a snapshot to `peer` (§7). */
  reportSnapshot(peer: NodeId, ok: boolean): void {
    this.#core.reportSnapshot(peer, ok);
  }

  /** A transport hint: the connection to `peer` dropped (fast failover). */
  peerDisconnected(peer: NodeId): void {
    this.#core.peerDisconnected(peer);
  }

  /** A transport hint: the connection to `peer` is up. */
  peerConnected(peer: NodeId): void {
    this.#core.peerConnected(peer);
  }

  /** Everything in Readys up to `readyNumber` is durable. */
  persisted(readyNumber: number): void {
    this.#core.persisted(readyNumber);
  }

  /** The driver applied every committed entry up to `index`. */
  applied(index: number): void {
    this.#core.applied(index);
  }

  // ---------------------------------------------------------------------------------------------
  // Outputs and views

  /**
   * Ticks until the first one that can act (send heartbeats, campaign, step down): the ones before
   * it only count. A driver may sleep until that tick and deliver the held ticks together, if it
   * delivers every due tick before any other input (RaftNode does: an idle member wakes once per
   * heartbeat interval or election timeout instead of every tick).
   */
  ticksUntilAction(): number {
    return this.#core.ticksUntilAction();
  }

  /** Whether `ready()` would return something. */
  hasReady(): boolean {
    return this.#core.hasReady();
  }

  /** Collects the effects accumulated since the previous Ready, or null when there are none. */
  ready(): Ready | null {
    return this.#core.ready();
  }

  hardState(): HardState {
    return this.#core.hardState();
  }

  softState(): SoftState {
    return this.#core.softState();
  }

  /** The effective configuration (the latest Config entry in the log, else the snapshot's). */
  conf(): ConfState {
    return this.#core.conf();
  }

  /** The configuration in effect at `index` (at least the snapshot index). */
  confAt(index: number): ConfState {
    return this.#core.confAt(index);
  }

  /** Whether this member may campaign: it is a voter of its configuration. */
  promotable(): boolean {
    return this.#core.promotable();
  }

  /** Per-follower replication state, for status pages (leader only; null otherwise). */
  progressOf(peer: NodeId): { match: number; next: number; state: string } | null {
    return this.#core.progressOf(peer);
  }
}
