import { addressOf } from '../raft/confChange.js';
import type { RaftConfig } from '../raft/config.js';
import { ErrorCode, KeelError } from '../raft/errors.js';
import { Raft } from '../raft/Raft.js';
import {
  type ConfChange,
  type ConfChangeResult,
  type ConfState,
  type Entry,
  EntryType,
  type Message,
  type NodeId,
  type Ready,
  Role,
  type SnapshotMessage,
  type SnapshotMeta,
  type TransferResult,
} from '../raft/types.js';
import {
  type LogStore,
  PeerEvent,
  type Scheduler,
  type SnapshotStore,
  type StateMachine,
  type StoredSnapshot,
  type TimerHandle,
  type Transport,
} from './interfaces.js';
import { PendingRequests } from './PendingRequests.js';
import { SnapshotTransfer } from './SnapshotTransfer.js';
import { concatChunks, type SnapshotBytes, type SnapshotChunks, toChunks } from './snapshotBytes.js';

export interface RaftNodeOptions<R> {
  /** Engine settings (id, voters, rng, election/heartbeat ticks, ...). */
  readonly raft: RaftConfig;
  readonly storage: LogStore;
  readonly transport: Transport;
  readonly stateMachine: StateMachine<R>;
  readonly scheduler: Scheduler;
  /** Milliseconds per engine tick. Default 10 (so electionTicks 15 = 150 ms). */
  readonly tickMs?: number;
  /** How long a linearizable read may wait for confirmation before failing with 'timeout'. Default 2000. */
  readonly readTimeoutMs?: number;
  /** Called once when the node stops because of a fatal error (failed fsync, broken invariant). */
  readonly onFatal?: (err: Error) => void;
  /** Observation hooks for tests and metrics; must not mutate what they are given. */
  readonly observer?: RaftObserver;
  /**
   * Where snapshots live (§7). Without it the node never snapshots and cannot install one (a
   * follower that needs one stops with a fatal error). With it, `storage.compact` and the state
   * machine's `snapshot`/`restore` are required.
   */
  readonly snapshotStore?: SnapshotStore;
  /** Take a snapshot once this many entries were applied since the last one. Default 10,000; 0: never (automatically). */
  readonly snapshotEntries?: number;
  /**
   * Take a snapshot once entries carrying this many bytes of data were applied since the last one
   * (whichever of the two limits comes first), so a log of large entries does not grow for 10,000
   * of them. Default 64 MiB; 0: no byte limit.
   */
  readonly snapshotBytes?: number;
  /** Entries kept in the log behind a snapshot, so a slightly slow follower needs no snapshot. Default 5,000. */
  readonly compactKeepEntries?: number;
  /** Bytes per InstallSnapshot chunk. Default 512 KiB. */
  readonly snapshotChunkBytes?: number;
  /** Chunks in flight per follower. Default 4. */
  readonly snapshotWindowChunks?: number;
  /** A transfer with no acknowledged progress for this long resends from the acknowledged offset. Default 1000. */
  readonly snapshotRetryMs?: number;
  /** Resends without progress before a transfer is reported failed (the engine retries later). Default 5. */
  readonly snapshotMaxRetries?: number;
  /**
   * Called with the configuration at startup and whenever it changes (after the transport's
   * `setPeers`): for logs, metrics, an address book.
   */
  readonly onConf?: (conf: ConfState) => void;
  /**
   * The other members known at startup (id → address, e.g. from flags): handed to
   * `transport.setPeers` with the members of every configuration, and dropped only when a
   * configuration change shows them leaving. A member that joins (or lags) may hold a
   * configuration older than the cluster's — a leader's snapshot records the configuration at its
   * index — and must not disconnect from a newer leader it does not list yet.
   */
  readonly peers?: ReadonlyMap<NodeId, string>;
}

export interface RaftObserver {
  /** Every Ready, right after the engine produced it and before the driver acts on it. */
  ready?(node: NodeId, ready: Ready): void;
  /** Every entry, right before it is applied to the state machine. */
  apply?(node: NodeId, entry: Entry): void;
  /** A snapshot this node took was saved (before the log is compacted). */
  snapshot?(node: NodeId, meta: SnapshotMeta, chunks: SnapshotChunks): void;
  /** The state machine was restored from a snapshot (at startup, or installing the leader's). */
  restore?(node: NodeId, meta: SnapshotMeta, data: Uint8Array): void;
}

/**
 * A membership change's outcome (dissertation §4.1). `ok` once its Config entry is applied here,
 * with the configuration it made. `proposal-dropped`: it will never take effect. `stopped`: the
 * node stopped (or a snapshot replaced its log) first; it may or may not have taken effect.
 */
export type ConfChangeOutcome =
  | { readonly ok: true; readonly index: number; readonly conf: ConfState }
  | Exclude<ConfChangeResult, { readonly ok: true }>
  | { readonly ok: false; readonly reason: 'stopped'; readonly message: string };

export type ProposeOutcome<R> =
  | { readonly ok: true; readonly index: number; readonly result: R }
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leaderHint: NodeId | null }
  /**
   * `proposal-dropped`: the command will never apply (the leader refused it before appending, or a
   * newer leader's entry took its index). `stopped`: the node stopped first; the command may or may
   * not have been committed by others.
   */
  | { readonly ok: false; readonly reason: 'proposal-dropped' | 'stopped'; readonly message: string };

/** A linearizable read's outcome: once `ok`, the local state machine reflects every write that completed before the read began. */
export type ReadOutcome =
  | { readonly ok: true; readonly index: number }
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leaderHint: NodeId | null }
  | {
      readonly ok: false;
      readonly reason: 'leadership-lost' | 'timeout' | 'stopped';
      readonly message: string;
    };

export interface NodeStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly leader: NodeId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  /** First index still in the log (snapshot index + 1, or earlier with kept entries). */
  readonly firstIndex: number;
  /** Index of the latest local snapshot (0 for none). */
  readonly snapshotIndex: number;
  /** The effective configuration. */
  readonly conf: ConfState;
  /** Snapshot transfers this member is sending. */
  readonly snapshotsSending: number;
  /** The member leadership is being handed to (§3.10), while this leader refuses proposals for it. */
  readonly transferee: NodeId | null;
}

/**
 * Runs the pure engine against real (or simulated) storage, transport, state machine and clock,
 * following DESIGN.md's driver loop: send `messages` now, hand entries and hard state to the store,
 * send `messagesAfterPersist` and report `persisted` once the store says they are durable, apply
 * committed entries and answer their proposers. Inputs that arrive together (many proposals, a
 * burst of messages) are coalesced into one Ready by deferring the pump, which is what turns many
 * client requests into one WAL write and one AppendEntries per follower.
 *
 * All callbacks are plain functions (no promises inside), so a simulator can run it in virtual time.
 */
export class RaftNode<R = unknown> {
  readonly id: NodeId;
  private readonly raft: Raft;
  private readonly storage: LogStore;
  private readonly transport: Transport;
  private readonly stateMachine: StateMachine<R>;
  private readonly scheduler: Scheduler;
  private readonly tickMs: number;
  private readonly onFatal: ((err: Error) => void) | undefined;
  private readonly observer: RaftObserver | undefined;
  private readonly snapshotStore: SnapshotStore | undefined;
  private readonly snapshotEntries: number;
  private readonly snapshotBytes: number;
  /** Data bytes of the entries applied since this node started, and that count when the latest snapshot was captured. */
  private appliedBytes = 0;
  private appliedBytesAtSnapshot = 0;
  private readonly compactKeepEntries: number;
  private readonly onConf: ((conf: ConfState) => void) | undefined;
  /** What `transport.setPeers` gets: known members minus those a configuration change removed. */
  private readonly peerBook = new Map<NodeId, string>();
  /** The configuration of the last Ready that carried one. */
  private lastConf: ConfState | null = null;
  private readonly transfer: SnapshotTransfer | null;
  /** Index of the latest snapshot saved (or restored). */
  private lastSnapshotIndex = 0;
  private snapshotting = false;
  private role: Role = Role.Follower;

  private running = false;
  private stopped = false;
  private tickTimer: TimerHandle | null = null;
  /** Scheduler time the armed tick timer is set for. */
  private timerDueAt = 0;
  /** Scheduler time at which the next engine tick is due. */
  private nextTickAt = 0;
  private pumpScheduled = false;
  /** Inside pump(): a nested call leaves the work to the running loop. */
  private pumping = false;
  /** The snapshot just received from the leader, until the engine installs or refuses it. */
  private received: StoredSnapshot | null = null;
  /** Readys handed to the store, oldest first, waiting to be durable. */
  private readonly unsynced: {
    number: number;
    write: boolean;
    durable: boolean;
    after: readonly Message[];
  }[] = [];
  /** Proposals, membership changes and reads waiting for their outcome. */
  private readonly pending: PendingRequests<R>;

  constructor(options: RaftNodeOptions<R>) {
    this.snapshotStore = options.snapshotStore;
    this.snapshotEntries = options.snapshotEntries ?? 10_000;
    this.snapshotBytes = options.snapshotBytes ?? 64 * 1024 * 1024;
    this.compactKeepEntries = options.compactKeepEntries ?? 5_000;
    this.onConf = options.onConf;
    this.observer = options.observer;
    for (const [id, address] of options.peers ?? []) {
      if (id !== options.raft.id) this.peerBook.set(id, address);
    }
    const storage = options.storage;
    // Restart (§7): the state machine starts from the latest snapshot, the log replays the tail.
    let snapshot: SnapshotMeta | null = null;
    if (this.snapshotStore !== undefined) {
      if (typeof storage.compact !== 'function') {
        throw new KeelError(ErrorCode.InvalidConfig, 'a snapshotStore needs a LogStore with compact()');
      }
      const sm = options.stateMachine;
      if (typeof sm.snapshot !== 'function' || typeof sm.restore !== 'function') {
        throw new KeelError(
          ErrorCode.InvalidConfig,
          'a snapshotStore needs a StateMachine with snapshot() and restore()',
        );
      }
      const stored = this.snapshotStore.load();
      if (stored !== null) {
        snapshot = stored.meta;
        const data = concatChunks(stored.chunks);
        sm.restore(data);
        this.observer?.restore?.(options.raft.id, stored.meta, data);
        this.lastSnapshotIndex = stored.meta.index;
        // A crash between saving an installed snapshot and resetting the log leaves a log that does
        // not reach (or contradicts) the snapshot: reset it now, before the engine reads it.
        if (storage.term(stored.meta.index) !== stored.meta.term) {
          this.compactStorage(storage, stored.meta.index, stored.meta.term);
        }
      }
    }
    this.raft = new Raft(options.raft, storage, snapshot);
    this.id = this.raft.id;
    this.storage = storage;
    this.transport = options.transport;
    this.stateMachine = options.stateMachine;
    this.scheduler = options.scheduler;
    this.tickMs = options.tickMs ?? 10;
    this.onFatal = options.onFatal;
    this.pending = new PendingRequests<R>(this.scheduler, options.readTimeoutMs ?? 2000, (index) =>
      this.raft.confAt(index),
    );
    const store = this.snapshotStore;
    this.transfer =
      store === undefined
        ? null
        : new SnapshotTransfer(
            {
              id: this.id,
              scheduler: this.scheduler,
              store,
              send: (msgs) => this.transport.send(msgs),
              deliver: (m, data) => this.deliverSnapshot(m, data),
              report: (peer, ok) => this.input(() => this.raft.reportSnapshot(peer, ok)),
              committed: () => this.raft.log.committed,
              term: () => this.raft.term,
              fail: (err) => this.fail(storageError(err)),
            },
            {
              chunkBytes: options.snapshotChunkBytes ?? 512 * 1024,
              windowChunks: options.snapshotWindowChunks ?? 4,
              retryMs: options.snapshotRetryMs ?? 1000,
              maxRetries: options.snapshotMaxRetries ?? 5,
            },
          );
  }

  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    const started = this.transport.start({
      message: (m) => this.receive(m),
      peer: (peer, event) => this.peerEvent(peer, event),
    });
    if (started instanceof Promise) started.catch((err: unknown) => this.fail(toError(err)));
    this.nextTickAt = this.scheduler.now() + this.tickMs;
    this.armTimer();
    this.schedulePump();
  }

  propose(data: Uint8Array, done: (outcome: ProposeOutcome<R>) => void): void {
    if (this.stopped) {
      done({ ok: false, reason: 'stopped', message: 'the node is stopped' });
      return;
    }
    let r: ReturnType<Raft['propose']>;
    try {
      this.advanceClock();
      r = this.raft.propose(data);
    } catch (err) {
      this.fail(toError(err));
      done({ ok: false, reason: 'stopped', message: 'the node stopped on a fatal error' });
      return;
    }
    if (!r.ok) {
      done(r.reason === 'not-leader' ? r : { ok: false, reason: 'proposal-dropped', message: r.message });
      return;
    }
    this.pending.addProposal(r.firstIndex, r.term, done);
    this.schedulePump();
  }

  /**
   * A linearizable read (ReadIndex, §6.4; or the leader's lease when enabled). `done` is called once:
   * `ok` when the local state machine may be read, or with a reason. Never reports ok for a read
   * that could observe stale state.
   */
  read(done: (outcome: ReadOutcome) => void): void {
    if (this.stopped) {
      done({ ok: false, reason: 'stopped', message: 'the node is stopped' });
      return;
    }
    // Time first: after a pause, the lease must be judged by the clock, not by missed timer firings.
    this.advanceClock();
    const context = this.pending.nextReadContext();
    const r = this.raft.readIndex(context);
    if (!r.ok) {
      done(r.reason === 'not-leader' ? r : { ok: false, reason: 'leadership-lost', message: r.message });
      return;
    }
    this.pending.addRead(context, done);
    this.schedulePump();
  }

  /**
   * Proposes a single-server membership change (dissertation §4.1): add a learner, promote it once
   * it has caught up, remove a member, or add a voter directly. `done` is called once: `ok` when the
   * change's Config entry is applied here, or with a reason (see ConfChangeOutcome).
   */
  proposeConfChange(change: ConfChange, done: (outcome: ConfChangeOutcome) => void): void {
    if (this.stopped) {
      done({ ok: false, reason: 'stopped', message: 'the node is stopped' });
      return;
    }
    let r: ReturnType<Raft['proposeConfChange']>;
    try {
      this.advanceClock();
      r = this.raft.proposeConfChange(change);
    } catch (err) {
      this.fail(toError(err));
      done({ ok: false, reason: 'stopped', message: 'the node stopped on a fatal error' });
      return;
    }
    if (!r.ok) {
      done(r);
      return;
    }
    this.pending.addConfChange(r.index, r.term, done);
    this.schedulePump();
  }

  /**
   * Takes a snapshot of the state machine now (as of the last applied entry), saves it, then
   * compacts the log. False when there is nothing new to snapshot, one is being taken, or the
   * node has no snapshot store.
   */
  takeSnapshot(): boolean {
    if (this.stopped || this.snapshotStore === undefined || this.snapshotting) return false;
    const index = this.raft.log.applied;
    if (index <= this.lastSnapshotIndex) return false;
    const term = this.raft.log.term(index);
    if (term < 0) return false;
    const meta: SnapshotMeta = { index, term, conf: this.raft.confAt(index) };
    const store = this.snapshotStore;
    this.snapshotting = true;
    this.appliedBytesAtSnapshot = this.appliedBytes;
    const save = (bytes: SnapshotBytes): void => {
      const chunks = toChunks(bytes);
      store.save(meta, chunks, (err) => {
        this.snapshotting = false;
        if (this.stopped) return;
        if (err !== null) {
          this.fail(storageError(err));
          return;
        }
        if (meta.index > this.lastSnapshotIndex) this.lastSnapshotIndex = meta.index;
        this.observer?.snapshot?.(this.id, meta, chunks);
        // Saved first, then announced, then the log shrinks: a follower is never owed entries that
        // neither the log nor a durable snapshot holds.
        this.input(() => this.raft.snapshotTaken(meta));
        const upTo = meta.index - this.compactKeepEntries;
        if (upTo >= this.storage.firstIndex() && upTo <= this.raft.log.applied) {
          const t = this.storage.term(upTo);
          if (t >= 0) this.compactStorage(this.storage, upTo, t);
        }
      });
    };
    const produced = this.stateMachine.snapshot!();
    if (produced instanceof Uint8Array || Array.isArray(produced)) save(produced as SnapshotBytes);
    else {
      // Encoded in the background; the state was captured at the call, matching `meta`.
      (produced as PromiseLike<SnapshotBytes>).then(save, (err: unknown) => {
        this.snapshotting = false;
        if (!this.stopped) this.fail(storageError(toError(err)));
      });
    }
    return true;
  }

  /** Hands leadership to `to` (dissertation §3.10); the outcome shows in status() within an election timeout. */
  transferLeader(to: NodeId): TransferResult {
    if (this.stopped) return { ok: false, reason: 'not-leader', leaderHint: null };
    this.advanceClock();
    const r = this.raft.transferLeader(to);
    this.schedulePump();
    return r;
  }

  /** Starts an election at once (tests and tools; normal operation relies on the timer). */
  campaign(): void {
    this.input(() => this.raft.campaign());
  }

  status(): NodeStatus {
    return {
      id: this.id,
      role: this.raft.role,
      term: this.raft.term,
      leader: this.raft.leader,
      commitIndex: this.raft.log.committed,
      appliedIndex: this.raft.log.applied,
      lastIndex: this.raft.log.lastIndex(),
      firstIndex: this.raft.log.firstIndex(),
      snapshotIndex: this.raft.snapshot?.index ?? 0,
      conf: this.raft.conf(),
      snapshotsSending: this.transfer?.sending ?? 0,
      transferee: this.raft.transferee,
    };
  }

  /** Replication state of `peer` as the leader sees it (null on followers). */
  progress(peer: NodeId): { match: number; next: number; state: string } | null {
    return this.raft.progressOf(peer);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    if (this.tickTimer !== null) this.scheduler.clearTimeout(this.tickTimer);
    this.tickTimer = null;
    this.transfer?.close();
    this.pending.stopAll();
  }

  // ---------------------------------------------------------------------------------------------

  private input(fn: () => void): void {
    if (this.stopped) return;
    try {
      this.advanceClock();
      fn();
    } catch (err) {
      this.fail(toError(err));
      return;
    }
    this.schedulePump();
  }

  /** A message from the transport: snapshot chunks are the driver's, the rest the engine's. */
  private receive(m: Message): void {
    if (this.stopped) return;
    if (m.type === 'snapChunk' || m.type === 'snapAck') {
      if (m.to !== this.id) return;
      if (this.transfer === null) {
        if (m.type === 'snapChunk') {
          this.fail(
            new KeelError(
              ErrorCode.InvalidConfig,
              `${m.from} sends a snapshot but this node has no snapshotStore`,
            ),
          );
        }
        return;
      }
      try {
        if (m.type === 'snapChunk') this.transfer.onChunk(m);
        else this.transfer.onAck(m);
      } catch (err) {
        this.fail(toError(err));
      }
      return;
    }
    this.input(() => this.raft.step(m));
  }

  private compactStorage(storage: LogStore, index: number, term: number): void {
    const compact = storage.compact;
    if (compact === undefined) return;
    const r: unknown = compact.call(storage, index, term, (err) => {
      if (err !== null) this.fail(storageError(err));
    });
    if (r instanceof Promise) {
      // A store written for the Promise style would never call back: say so at once.
      r.catch(() => {});
      this.fail(
        new KeelError(
          ErrorCode.InvalidConfig,
          'LogStore.compact returned a Promise: it must take (index, term, onDurable) and call onDurable',
        ),
      );
    }
  }

  private peerEvent(peer: NodeId, event: PeerEvent): void {
    // Reachability hints feed fast failover; safety never depends on them.
    this.input(() => {
      if (event === PeerEvent.Disconnected) this.raft.peerDisconnected(peer);
      else this.raft.peerConnected(peer);
    });
  }

  /**
   * Ticks are lazy: the timer is armed for the first tick at which the engine can act (a heartbeat,
   * an election, a step-down; `Raft.ticksUntilAction`), not for every tick. The ticks before it
   * only count, and `advanceClock` delivers every tick due by the clock before each input, so the
   * engine sees the same ticks between its inputs as with a timer per tick, and an idle member
   * wakes once per heartbeat interval (leader) or election timeout (follower) instead of every
   * tick. Called after every pump: an input can bring the next action closer (a new leader's first
   * heartbeat, a transport hint); one that pushes it back leaves the timer, which re-arms on firing.
   */
  private armTimer(): void {
    if (this.stopped) return;
    const due = this.nextTickAt + (this.raft.ticksUntilAction() - 1) * this.tickMs;
    if (this.tickTimer !== null) {
      if (this.timerDueAt <= due) return;
      this.scheduler.clearTimeout(this.tickTimer);
    }
    this.timerDueAt = due;
    // A timer that fires a little early (Node's can, by about a millisecond) finds no tick due
    // and re-arms for the rest.
    this.tickTimer = this.scheduler.setTimeout(() => this.onTimer(), Math.max(0, due - this.scheduler.now()));
  }

  private onTimer(): void {
    this.tickTimer = null;
    if (this.stopped) return;
    try {
      if (this.advanceClock() && this.raft.hasReady()) this.schedulePump();
    } catch (err) {
      this.fail(toError(err));
      return;
    }
    this.armTimer();
  }

  /**
   * Delivers every tick that is due by the clock. A process that was paused (SIGSTOP, a long GC,
   * an overloaded host) must see its logical time jump, or a leader would keep trusting a lease
   * that expired while it was frozen. Bounded so a long pause costs at most a couple of election
   * timeouts' worth of ticks (counted from the last tick delivered: the ticks held while asleep
   * count toward it). True when it delivered any.
   */
  private advanceClock(): boolean {
    const now = this.scheduler.now();
    if (now < this.nextTickAt) return false;
    const due = 1 + Math.floor((now - this.nextTickAt) / this.tickMs);
    const n = Math.min(due, 2 * this.raft.electionTimeoutTicks + 1);
    this.nextTickAt += due * this.tickMs;
    for (let i = 0; i < n; i++) this.raft.tick();
    return true;
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    this.scheduler.defer(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.stopped || this.pumping) return;
    this.pumping = true;
    try {
      for (let rd = this.raft.ready(); rd !== null; rd = this.raft.ready()) this.handle(rd);
    } catch (err) {
      this.fail(toError(err));
    } finally {
      this.pumping = false;
    }
    this.armTimer();
  }

  /**
   * A received snapshot is completely stored: step the engine and handle its Ready at once, so
   * that the install restores exactly these bytes (another snapshot finishing first would
   * replace them as the store's latest).
   */
  private deliverSnapshot(m: SnapshotMessage, chunks: SnapshotChunks | null): void {
    if (chunks !== null) this.received = { meta: m.meta, chunks };
    const nested = this.pumping;
    this.input(() => this.raft.step(m));
    this.pump();
    if (!nested) this.received = null; // taken, or refused by the engine (stale)
  }

  private handle(rd: Ready): void {
    this.observer?.ready?.(this.id, rd);
    if (rd.softState !== null) {
      this.role = rd.softState.role;
      // A deposed leader's transfers are void: the engine forgot its followers' progress.
      if (this.role !== Role.Leader) this.transfer?.cancelAll();
    }
    if (rd.messages.length > 0) {
      let out = rd.messages;
      if (this.transfer !== null && out.some((m) => m.type === 'snapshot')) {
        // §7: the engine names the snapshot; the driver moves its bytes in chunks.
        out = out.filter((m) => {
          if (m.type !== 'snapshot') return true;
          this.transfer!.start(m);
          return false;
        });
      }
      if (out.length > 0) this.transport.send(out);
    }
    if (rd.conf !== null) this.confChanged(rd.conf);

    let ops = (rd.snapshot !== null ? 1 : 0) + (rd.entries.length > 0 || rd.hardState !== null ? 1 : 0);
    const item = { number: rd.number, write: ops > 0, durable: ops === 0, after: rd.messagesAfterPersist };
    this.unsynced.push(item);
    const onDurable = (err: Error | null): void => {
      if (this.stopped) return;
      if (err !== null) {
        this.fail(storageError(err));
        return;
      }
      if (--ops > 0) return;
      item.durable = true;
      this.releaseDurable();
    };
    if (rd.snapshot !== null) this.install(rd.snapshot, onDurable);
    if (this.stopped) return;
    if (rd.entries.length > 0 || rd.hardState !== null) {
      this.storage.append(rd.entries, rd.hardState, onDurable);
    }
    if (!item.write) this.releaseDurable();

    if (rd.committed.length > 0) this.apply(rd.committed);
    for (const rs of rd.readStates) this.pending.readState(rs, this.raft.log.applied);
  }

  /**
   * Keeps the transport's peers: every member of the new configuration is added (or its address
   * updated); a member is dropped only if the previous configuration had it and this one does not.
   * A jump from no configuration (join mode) to the configuration of a leader's snapshot — which
   * may be older than the cluster's — drops nobody.
   */
  private confChanged(conf: ConfState): void {
    const members = new Set([...conf.voters, ...conf.learners]);
    const prev = this.lastConf;
    if (prev !== null) {
      for (const id of [...prev.voters, ...prev.learners]) if (!members.has(id)) this.peerBook.delete(id);
    }
    for (const id of members) {
      if (id === this.id) continue;
      const address = addressOf(conf.addresses, id);
      if (address !== '' || !this.peerBook.has(id)) this.peerBook.set(id, address);
    }
    this.lastConf = conf;
    this.transport.setPeers?.(new Map(this.peerBook));
    this.onConf?.(conf);
  }

  /**
   * Installs the leader's snapshot (§7): the engine already replaced its log; restore the state
   * machine from the stored bytes and reset the log to start after the snapshot.
   */
  private install(
    at: { readonly index: number; readonly term: number },
    onDurable: (err: Error | null) => void,
  ): void {
    // The bytes just received. The store's latest may already be newer (a snapshot from a leader
    // that lost its term before the engine saw it): a committed state too, which a restart would
    // restore, resetting the log to it.
    const r = this.received;
    this.received = null;
    const stored =
      r !== null && r.meta.index === at.index && r.meta.term === at.term
        ? r
        : (this.snapshotStore?.load() ?? null);
    if (stored === null || stored.meta.index !== at.index || stored.meta.term !== at.term) {
      this.fail(
        new KeelError(
          ErrorCode.InvariantViolated,
          `the engine installs snapshot ${at.index}@${at.term} but neither the transfer nor the store holds it (latest: ${stored === null ? 'none' : `${stored.meta.index}@${stored.meta.term}`})`,
        ),
      );
      return;
    }
    const data = concatChunks(stored.chunks);
    this.stateMachine.restore!(data);
    this.observer?.restore?.(this.id, stored.meta, data);
    if (at.index > this.lastSnapshotIndex) this.lastSnapshotIndex = at.index;
    this.appliedBytesAtSnapshot = this.appliedBytes;
    this.pending.snapshotInstalled(at.index);
    this.storage.compact!(at.index, at.term, onDurable);
    if (this.storage.lastIndex() !== at.index || this.storage.term(at.index) !== at.term) {
      this.fail(
        new KeelError(
          ErrorCode.StorageFailed,
          `after installing snapshot ${at.index}@${at.term} the log ends at ${this.storage.lastIndex()}@${this.storage.term(this.storage.lastIndex())}`,
        ),
      );
    }
    this.pending.serveReads(at.index);
  }

  /** Sends what waited for durability, in Ready order, and tells the engine how far it got. */
  private releaseDurable(): void {
    let last = -1;
    while (this.unsynced.length > 0 && this.unsynced[0]!.durable) {
      const item = this.unsynced.shift()!;
      if (item.after.length > 0) this.transport.send(item.after);
      last = item.number;
    }
    if (last >= 0) this.input(() => this.raft.persisted(last));
  }

  private apply(entries: readonly Entry[]): void {
    for (const e of entries) {
      this.observer?.apply?.(this.id, e);
      this.appliedBytes += e.data.length;
      let result: R | undefined;
      if (e.type === EntryType.Normal) result = this.stateMachine.apply(e);
      this.pending.applied(e, result);
    }
    const last = entries[entries.length - 1]!.index;
    this.raft.applied(last);
    this.pending.serveReads(last);
    if (
      this.snapshotStore !== undefined &&
      ((this.snapshotEntries > 0 && last - this.lastSnapshotIndex >= this.snapshotEntries) ||
        (this.snapshotBytes > 0 && this.appliedBytes - this.appliedBytesAtSnapshot >= this.snapshotBytes))
    ) {
      this.takeSnapshot();
    }
  }

  private fail(err: Error): void {
    if (this.stopped) return;
    this.stop();
    this.onFatal?.(err);
  }
}

function storageError(err: Error): KeelError {
  return err instanceof KeelError && err.code === ErrorCode.StorageFailed
    ? err
    : new KeelError(ErrorCode.StorageFailed, `storage failed: ${err.message}`, { cause: err });
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
