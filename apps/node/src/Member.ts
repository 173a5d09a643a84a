import { randomInt } from 'node:crypto';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ConfChange,
  type ConfState,
  chunksLength,
  type Entry,
  type HardState,
  KeelError,
  type LogStore,
  type NodeId,
  PeerEvent,
  RaftNode,
  type Ready,
  realScheduler,
  SeededRng,
} from '@keel/core';
import { type KvResult, KvStateMachine } from '@keel/kv';
import {
  type FileSnapshotStore,
  openLog,
  openSnapshotStore,
  SnapshotError,
  WalError,
  type WalLogStore,
} from '@keel/log';
import { ClientServer, PeerTransport } from '@keel/transport-zmq';
import type { Logger } from 'pino';
import { ClientService } from './ClientService.js';
import { type Address, ConfigError, engineTicks, type NodeConfig } from './config.js';
import { type HttpServer, startHttp } from './http.js';
import { makeDirectory } from './makeDirectory.js';
import {
  decodeMemberAddresses,
  encodeMemberAddresses,
  learnerNotReady,
  type MemberAddresses,
  type MemberChangeReply,
  type MemberChangeRequest,
  type MemberInfo,
  type MembersView,
} from './membership.js';
import { NodeMetrics } from './metrics.js';
import { dialAddresses, peerRoutes, tcpEndpoint } from './peerRoutes.js';

import { walSyncPublisher } from './walSyncFile.js';

/** A startup failure caused by the environment (port in use, unwritable or foreign data dir, corrupt WAL). */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const PROPOSAL_TIMEOUT_MS = 5000;
/** Graceful stop: how long requests in flight may take to complete once leadership has moved. */
const SETTLE_MS = 300;
/** Graceful stop: how long the client endpoint may take to put the last answers on the wire. */
const DRAIN_MS = 200;

const hostPort = (a: Address): string => `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;

export interface MemberStatus {
  readonly id: NodeId;
  readonly clusterId: string;
  readonly role: string;
  readonly term: number;
  readonly leader: NodeId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly peers: readonly {
    id: NodeId;
    match: number | null;
    next: number | null;
    state: string | null;
    connected: boolean;
  }[];
  readonly addresses: { readonly peer: string; readonly client: string; readonly http: string | null };
  readonly wal: { readonly fsyncs: number; readonly bytesWritten: number; readonly entriesPerFsync: number };
  readonly stats: { readonly proposals: number; readonly reads: number; readonly clientRequests: number };
  readonly pid: number;
  readonly uptimeMs: number;
  /**
   * The state machine's fingerprint (`/status?hash=1` only: it encodes the whole store, so it is
   * not computed for every poll): equal applied index and hash means equal stores.
   */
  readonly stateHash?: string;
  /** The configuration this member has: voters and learners. */
  readonly conf: { readonly voters: readonly NodeId[]; readonly learners: readonly NodeId[] };
  /** First index still in the WAL, and the latest snapshot's index (0: none). */
  readonly firstIndex: number;
  readonly snapshotIndex: number;
}

/**
 * One cluster member: the core driver composed with the WAL, the ZeroMQ transport and the KV
 * state machine, plus the client endpoint and the HTTP endpoint. Library users who embed Keel do
 * the same composition with their own state machine.
 */
export class Member {
  private readonly started = performance.now();
  private stopping = false;
  private readonly connected = new Map<NodeId, boolean>();
  /** When a message from each peer last arrived (performance.now()). */
  readonly lastHeard = new Map<NodeId, number>();
  /** Every member's addresses, from the configuration (bootstrap flags until the first Ready). */
  private readonly addressBook = new Map<NodeId, MemberAddresses>();
  private conf: ConfState = { voters: [], learners: [], addresses: new Map() };
  private readonly service: ClientService;

  private constructor(
    readonly config: NodeConfig,
    private readonly log: Logger,
    private readonly wal: WalLogStore,
    private readonly snapshots: FileSnapshotStore,
    private readonly peers: PeerTransport,
    private readonly departing: DepartingPeers,
    private readonly clients: ClientServer,
    private readonly sm: KvStateMachine,
    private readonly node: RaftNode<KvResult>,
    private readonly metrics: NodeMetrics,
    private http: HttpServer | null,
    private readonly onFatal: (err: Error) => void,
  ) {
    this.service = new ClientService({
      id: config.id,
      readLease: config.readLease,
      node,
      sm,
      metrics,
      clientAddress: (id) => this.addressBook.get(id)?.client,
    });
  }

  static async start(config: NodeConfig, log: Logger, onFatal: (err: Error) => void): Promise<Member> {
    await prepareDataDir(config);
    const metrics = new NodeMetrics({ nodeId: config.id });

    let wal: WalLogStore;
    try {
      wal = await openLog(join(config.dataDir, 'wal'), { logger: log.child({ component: 'wal' }) });
    } catch (err) {
      if (err instanceof WalError) throw new StartupError(err.code, `cannot open the WAL: ${err.message}`);
      throw err;
    }
    let snapshots: FileSnapshotStore;
    try {
      snapshots = await openSnapshotStore(join(config.dataDir, 'snap'));
    } catch (err) {
      await wal.close().catch(() => {});
      if (err instanceof SnapshotError)
        throw new StartupError(err.code, `cannot open the snapshots: ${err.message}`);
      throw err;
    }
    const bootstrap = bootstrapAddresses(config);
    let routes: ReadonlyMap<NodeId, { host: string; port: number }>;
    try {
      routes = peerRoutes(process.env);
    } catch (err) {
      await Promise.allSettled([wal.close(), snapshots.close()]);
      throw err;
    }

    const others = config.peers.filter((p) => p.id !== config.id);
    const peers = new PeerTransport({
      id: config.id,
      bind: tcpEndpoint(config.peerBind),
      peers: new Map(others.map((p) => [p.id, tcpEndpoint(routes.get(p.id) ?? p)])),
      logger: log.child({ component: 'transport' }),
      // A restarted peer must hear from the leader well within an election timeout, or it
      // campaigns needlessly: keep the reconnect backoff short.
      reconnectIntervalMs: 20,
      reconnectMaxIntervalMs: Math.max(50, Math.floor(config.electionTimeoutMs / 2)),
      // A hung peer (SIGSTOP, a frozen VM, a blackholed link) keeps its TCP connection open, so
      // only silence reveals it. ZMTP heartbeats are answered by ZeroMQ's I/O thread, not by the
      // JavaScript event loop, so a busy or GC-pausing member still answers; one silent for the
      // minimum election timeout is reported Disconnected, and the followers of a hung leader
      // start the fast-failover pre-vote, staggered by rank, instead of waiting out randomized
      // timeouts. Never shorter than that timeout: on an overloaded host a shorter one (half of
      // it was tried) reports live members gone and churns leadership.
      heartbeatIntervalMs: Math.max(5, Math.floor(config.electionTimeoutMs / 5)),
      heartbeatTimeoutMs: Math.max(20, config.electionTimeoutMs),
    });
    try {
      await peers.listen();
    } catch (err) {
      await Promise.allSettled([peers.close(), wal.close(), snapshots.close()]);
      throw bindError('peer', config.peerBind, err);
    }
    const clients = new ClientServer({
      bind: tcpEndpoint(config.clientBind),
      logger: log.child({ component: 'clients' }),
    });
    try {
      await clients.listen();
    } catch (err) {
      await Promise.allSettled([clients.close(), peers.close(), wal.close(), snapshots.close()]);
      throw bindError('client', config.clientBind, err);
    }

    // A member that leaves the configuration is disconnected only after a grace period: a removed
    // leader goes on replicating until its removal commits (dissertation §4.2.2), and the transport
    // drops frames from members it does not know.
    const departing = new DepartingPeers(peers, Math.max(5000, config.electionTimeoutMs * 20));
    const sm = new KvStateMachine({
      sessionTimeoutMs: config.sessionTimeoutMs,
      // Snapshots of a large store are encoded in slices between other work.
      snapshotYield: () => new Promise<void>((resolve) => setImmediate(resolve)),
    });
    const { electionTicks, heartbeatTicks } = engineTicks(config);
    let member: Member | null = null;
    const raftLog = log.child({ component: 'raft' });
    const node = new RaftNode<KvResult>({
      raft: {
        id: config.id,
        // Join mode: no configuration until the leader's log or snapshot brings one.
        voters: config.join ? [] : config.peers.map((p) => p.id),
        addresses: new Map(config.peers.map((p) => [p.id, encodeMemberAddresses(bootstrap.get(p.id)!)])),
        rng: new SeededRng(randomInt(0, 2 ** 31)),
        electionTicks,
        heartbeatTicks,
        readLease: config.readLease,
      },
      storage: instrumented(wal, metrics, walSyncPublisher(wal, process.env)),
      transport: {
        start: (handlers) =>
          peers.start({
            message: (m) => {
              member?.lastHeard.set(m.from, performance.now());
              handlers.message(m);
            },
            peer: (id, event) => {
              member?.connected.set(id, event === PeerEvent.Connected);
              if (event === PeerEvent.Disconnected) raftLog.info({ peer: id }, 'peer connection dropped');
              handlers.peer(id, event);
            },
          }),
        send: (msgs) => peers.send(msgs),
        setPeers: (others) => {
          // A joining member has no configuration yet: keep the members its flags name.
          if (others.size === 0) return;
          departing.update(dialAddresses(others, routes));
        },
        close: () => peers.close(),
      },
      stateMachine: sm,
      // The members named by the flags stay connected until a configuration shows them leaving
      // (a joiner's first configuration may be older than the cluster's).
      peers: new Map(
        config.peers
          .filter((p) => p.id !== config.id)
          .map((p) => [p.id, encodeMemberAddresses(bootstrap.get(p.id)!)]),
      ),
      snapshotStore: snapshots,
      snapshotEntries: config.snapshotEntries,
      snapshotBytes: config.snapshotBytes,
      compactKeepEntries: config.compactKeepEntries,
      onConf: (conf) => member?.onConf(conf, raftLog),
      scheduler: realScheduler,
      tickMs: config.tickMs,
      onFatal: (err) => onFatal(err),
      observer: {
        ready: (_id, rd) => member?.observeReady(rd, raftLog),
        snapshot: (_id, meta, chunks) => {
          const bytes = chunksLength(chunks);
          metrics.snapshots.inc();
          metrics.snapshotBytes.set(bytes);
          raftLog.info({ index: meta.index, term: meta.term, bytes }, 'snapshot taken');
        },
        restore: (_id, meta, data) => {
          metrics.snapshotsRestored.inc();
          metrics.snapshotBytes.set(data.length);
          raftLog.info(
            { index: meta.index, term: meta.term, bytes: data.length, voters: meta.conf.voters },
            'state restored from snapshot',
          );
        },
      },
    });
    member = new Member(
      config,
      log,
      wal,
      snapshots,
      peers,
      departing,
      clients,
      sm,
      node,
      metrics,
      null,
      onFatal,
    );
    for (const [id, a] of bootstrap) member.addressBook.set(id, a);
    member.onConf(node.status().conf, raftLog);
    node.start();
    await clients.start((req) => member?.service.handle(req));
    if (config.http !== null) {
      try {
        member.http = await startHttp(config.http, member, metrics);
      } catch (err) {
        await member.close();
        throw bindError('http', config.http, err);
      }
    }
    log.info(
      {
        peer: hostPort(config.peerBind),
        client: hostPort(config.clientBind),
        http: config.http === null ? null : hostPort(config.http),
        voters: config.join ? 'joining' : config.peers.map((p) => p.id),
        electionTimeoutMs: config.electionTimeoutMs,
        lastIndex: wal.lastIndex(),
        term: wal.initialState().hardState.term,
      },
      'member started',
    );
    return member;
  }

  // ---------------------------------------------------------------------------------------------

  private last: { role: string; term: number; leader: NodeId | null } = {
    role: 'follower',
    term: -1,
    leader: null,
  };

  /** Logs role and leader changes at info with term and the likely reason (from the transition). */
  private observeReady(rd: Ready, log: Logger): void {
    const ss = rd.softState;
    if (ss === null) return;
    const prev = this.last;
    if (ss.role !== prev.role) {
      if (ss.role === 'pre-candidate' || ss.role === 'candidate') this.metrics.electionsStarted.inc();
      if (ss.role === 'leader') this.metrics.electionsWon.inc();
      this.metrics.setRole(ss.role);
    }
    this.last = { role: ss.role, term: ss.term, leader: ss.leader };
    if (prev.term < 0) return; // the initial state, logged by 'member started'
    const reason = roleChangeReason(prev, ss, this.conf.voters.includes(this.config.id));
    log.info(
      { term: ss.term, role: ss.role, leader: ss.leader, previousRole: prev.role, reason },
      `${ss.role} in term ${ss.term}${ss.leader === null ? ', no leader' : `, leader ${ss.leader}`} (${reason})`,
    );
  }

  /** The configuration changed (or was first known): refresh the address book and say so. */
  private onConf(conf: ConfState, log: Logger): void {
    const before = this.conf;
    this.conf = conf;
    for (const [id, text] of conf.addresses) {
      const a = decodeMemberAddresses(text);
      const known = this.addressBook.get(id);
      // Bootstrap members may carry no addresses in the configuration: keep what the flags said.
      this.addressBook.set(id, {
        peer: a.peer || known?.peer || '',
        client: a.client || known?.client || '',
        http: a.http || known?.http || '',
      });
    }
    const same = (x: readonly string[], y: readonly string[]) =>
      x.length === y.length && x.every((v, i) => v === y[i]);
    if (same(before.voters, conf.voters) && same(before.learners, conf.learners)) return;
    log.info(
      { voters: conf.voters, learners: conf.learners, term: this.node.status().term },
      `configuration: voters ${conf.voters.join(', ') || '(none yet)'}${conf.learners.length > 0 ? `; learners ${conf.learners.join(', ')}` : ''}`,
    );
  }

  /** Other members of the configuration, voters first. */
  private others(): NodeId[] {
    return [...this.conf.voters, ...this.conf.learners].filter((id) => id !== this.config.id);
  }

  /** `POST /snapshot`: snapshot the store now (false: nothing new since the last one, or one is under way). */
  takeSnapshot(): boolean {
    return this.node.takeSnapshot();
  }

  /** `GET /members`. */
  members(): MembersView {
    const s = this.node.status();
    const info = (id: NodeId, role: 'voter' | 'learner'): MemberInfo => {
      const a = this.addressBook.get(id) ?? { peer: '', client: '', http: '' };
      const pr = s.role === 'leader' && id !== this.config.id ? this.node.progress(id) : null;
      const match = id === this.config.id && s.role === 'leader' ? s.lastIndex : (pr?.match ?? null);
      return { id, role, ...a, match };
    };
    return {
      id: this.config.id,
      leader: s.leader,
      term: s.term,
      commitIndex: s.commitIndex,
      members: [
        ...s.conf.voters.map((id) => info(id, 'voter')),
        ...s.conf.learners.map((id) => info(id, 'learner')),
      ],
    };
  }

  /**
   * `POST /members`: one single-server change through the engine. A leader that has not yet
   * committed an entry of its term refuses changes for a moment (§4.1); that is retried here for
   * up to an election timeout, so callers only see it when the cluster really has no stable leader.
   */
  async changeMembers(req: MemberChangeRequest): Promise<MemberChangeReply> {
    if (req.action === 'promote' && req.force !== true) {
      const refusal = learnerNotReady(this.members(), req.id);
      if (refusal !== null) return refusal;
    }
    const change: ConfChange =
      req.action === 'add'
        ? {
            type: req.learner === false ? 'addVoter' : 'addLearner',
            id: req.id,
            address: encodeMemberAddresses({
              peer: req.peer ?? '',
              client: req.client ?? '',
              http: req.http ?? '',
            }),
          }
        : { type: req.action === 'promote' ? 'promote' : 'remove', id: req.id };
    const deadline = performance.now() + Math.max(1000, this.config.electionTimeoutMs * 2);
    for (;;) {
      type Outcome = Parameters<Parameters<RaftNode['proposeConfChange']>[1]>[0] | 'timeout';
      const outcome = await new Promise<Outcome>((resolve) => {
        // A leader that loses office (or is the member removed) before the entry applies here
        // may never see it apply: answer "unknown" after a bound instead of hanging.
        const timer = setTimeout(() => resolve('timeout'), PROPOSAL_TIMEOUT_MS);
        this.node.proposeConfChange(change, (o) => {
          clearTimeout(timer);
          resolve(o);
        });
      });
      if (outcome === 'timeout') {
        return {
          ok: false,
          reason: 'timeout',
          message: `not applied here within ${PROPOSAL_TIMEOUT_MS} ms; it may still take effect (see GET /members on the leader)`,
        };
      }
      if (outcome.ok) {
        this.log.info({ change, index: outcome.index }, `membership change applied: ${req.action} ${req.id}`);
        return { ok: true, index: outcome.index, members: this.members().members };
      }
      if (outcome.reason === 'term-not-committed' && performance.now() < deadline) {
        await sleep(10);
        continue;
      }
      if (outcome.reason === 'not-leader') {
        const hint = outcome.leaderHint;
        const http = hint === null ? null : this.addressBook.get(hint)?.http || null;
        return {
          ok: false,
          reason: 'not-leader',
          message: 'not the leader',
          leaderHint: hint,
          leaderHttp: http,
        };
      }
      return { ok: false, reason: outcome.reason, message: outcome.message };
    }
  }

  status(withHash = false): MemberStatus {
    const s = this.node.status();
    const wal = this.wal.metrics;
    return {
      id: s.id,
      clusterId: this.config.clusterId,
      role: s.role,
      term: s.term,
      leader: s.leader,
      commitIndex: s.commitIndex,
      appliedIndex: s.appliedIndex,
      lastIndex: s.lastIndex,
      peers: this.others().map((id) => {
        const pr = this.node.progress(id);
        const heard = this.lastHeard.get(id);
        return {
          id,
          match: pr?.match ?? null,
          next: pr?.next ?? null,
          state: pr?.state ?? null,
          connected: this.connected.get(id) ?? false,
          lastContactMs: heard === undefined ? null : Math.round(performance.now() - heard),
        };
      }),
      addresses: {
        peer: hostPort(this.config.peerBind),
        client: hostPort(this.config.clientBind),
        http: this.config.http === null ? null : hostPort(this.config.http),
      },
      wal: { fsyncs: wal.fsyncs, bytesWritten: wal.bytesWritten, entriesPerFsync: wal.entriesPerFsync },
      stats: { ...this.service.stats },
      pid: process.pid,
      uptimeMs: Math.round(performance.now() - this.started),
      ...(withHash ? { stateHash: this.sm.stateHash() } : {}),
      conf: { voters: s.conf.voters, learners: s.conf.learners },
      firstIndex: s.firstIndex,
      snapshotIndex: s.snapshotIndex,
    };
  }

  /** Refreshes the gauges that mirror engine, WAL and transport state (called at scrape time). */
  refreshMetrics(): void {
    const s = this.node.status();
    const m = this.metrics;
    m.term.set(s.term);
    m.commitIndex.set(s.commitIndex);
    m.appliedIndex.set(s.appliedIndex);
    m.lastIndex.set(s.lastIndex);
    m.setRole(s.role);
    m.setLeader(s.leader);
    const w = this.wal.metrics;
    m.walBytes.set(w.bytesWritten);
    m.walFsyncs.set(w.fsyncs);
    m.walEntriesPerFsync.set(w.entriesPerFsync);
    const t = this.peers.metrics;
    m.messagesSent.set(t.sent);
    m.messagesReceived.set(t.received);
    for (const [reason, n] of Object.entries(t.dropped)) m.messagesDropped.set({ reason }, n);
    m.setPeerFramesRejected(t.framesRejected);
  }

  // ---------------------------------------------------------------------------------------------
  // Shutdown

  /**
   * Graceful stop (SIGTERM/SIGINT), in an order where every request gets an answer on the wire:
   * 1. new requests are refused as `not-leader` with the leader's id (not executed: the client
   *    retries there at once);
   * 2. a leader hands leadership to the most up-to-date follower and waits (bounded) until it has;
   * 3. requests in flight are given a short, bounded time to complete (the new leader commits
   *    what this one appended);
   * 4. the engine stops: what still waits is answered `stopped` (outcome unknown) with the new
   *    leader's id;
   * 5. the client endpoint drains those answers onto the wire (bounded), then everything closes
   *    (the WAL last: everything acknowledged is durable already; close only releases files).
   */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.service.stopping = true;
    const s = this.node.status();
    if (s.role === 'leader') {
      const target = this.bestFollower();
      if (target !== null) {
        this.log.info({ term: s.term, to: target }, 'transferring leadership before shutdown');
        this.node.transferLeader(target);
        const deadline = performance.now() + this.config.electionTimeoutMs * 2;
        while (this.node.status().role === 'leader' && performance.now() < deadline) await sleep(5);
        this.log.info(
          { term: this.node.status().term, leader: this.node.status().leader },
          'leadership handed over',
        );
      }
    }
    const settling = this.service.inFlight;
    await this.service.settle(SETTLE_MS);
    this.log.info({ inFlight: settling, unanswered: this.service.inFlight }, 'requests in flight settled');
    await this.close();
  }

  private bestFollower(): NodeId | null {
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const id of this.conf.voters) {
      if (id === this.config.id) continue;
      const pr = this.node.progress(id);
      if (pr !== null && pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    }
    return best;
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.service.stopping = true;
    // Answers every waiter (`stopped`); the drain below puts those answers on the wire.
    this.node.stop();
    this.departing.close();
    await this.service.close();
    await Promise.allSettled([this.http?.close(), this.clients.drain(DRAIN_MS), this.peers.close()]);
    await this.snapshots.close().catch((err: unknown) => this.log.error({ err }, 'saving a snapshot failed'));
    await this.wal.close().catch((err: unknown) => this.log.error({ err }, 'closing the WAL failed'));
    this.log.info({ term: this.node.status().term }, 'member stopped');
  }

  get fatal(): (err: Error) => void {
    return this.onFatal;
  }
}

/**
 * Why a member's role changed, for the log line. `voter`: whether this member is a voter of its
 * configuration — a leader that removed itself steps down once its removal commits (§4.2.2), in
 * the same term, which is otherwise the sign of a failed CheckQuorum.
 */
export function roleChangeReason(
  prev: { role: string; term: number; leader: NodeId | null },
  next: { role: string; term: number; leader: NodeId | null },
  voter = true,
): string {
  if (next.role === 'leader') return 'won the election';
  if (next.role === 'candidate')
    return prev.role === 'pre-candidate' ? 'pre-vote granted' : 'asked to take over';
  if (next.role === 'pre-candidate') {
    return prev.leader === null
      ? 'election timeout'
      : `lost leader ${prev.leader} (timeout or dropped connection)`;
  }
  if (prev.role === 'leader') {
    if (next.term > prev.term) return `saw higher term ${next.term}`;
    return voter ? 'lost contact with a quorum (CheckQuorum)' : 'removed from the configuration';
  }
  if (next.term > prev.term) return `saw higher term ${next.term}`;
  if (prev.role !== 'follower') return next.leader === null ? 'election lost' : `${next.leader} won`;
  return next.leader === null ? 'leader lost' : `heard from leader ${next.leader}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Times every append until durable (fsync latency as the driver sees it, batching included). */
function instrumented(wal: WalLogStore, metrics: NodeMetrics, publishSync: (() => void) | null): LogStore {
  return {
    initialState: () => wal.initialState(),
    firstIndex: () => wal.firstIndex(),
    lastIndex: () => wal.lastIndex(),
    term: (i) => wal.term(i),
    entries: (lo, hi, max) => wal.entries(lo, hi, max),
    compact: (index: number, term: number, onDurable: (err: Error | null) => void) =>
      wal.compact(index, term, onDurable),
    append: (entries: readonly Entry[], hs: HardState | null, onDurable: (err: Error | null) => void) => {
      const t0 = performance.now();
      wal.append(entries, hs, (err) => {
        if (err === null) metrics.fsyncLatency.observe((performance.now() - t0) / 1000);
        if (err === null) publishSync?.();
        onDurable(err);
      });
    },
    close: () => wal.close(),
  };
}

/**
 * Applies configuration changes to the peer transport, keeping members that left connected for a
 * grace period before forgetting them.
 */
class DepartingPeers {
  private readonly timers = new Map<NodeId, NodeJS.Timeout>();

  constructor(
    private readonly transport: PeerTransport,
    private readonly graceMs: number,
  ) {}

  update(next: ReadonlyMap<NodeId, string>): void {
    for (const [id, t] of this.timers) {
      if (next.has(id)) {
        clearTimeout(t);
        this.timers.delete(id);
      }
    }
    const keep = new Map(next);
    for (const id of this.transport.peerIds()) {
      if (next.has(id)) continue;
      keep.set(id, ''); // '' keeps the address the transport knows
      if (!this.timers.has(id)) {
        const t = setTimeout(() => {
          this.timers.delete(id);
          this.transport.removePeer(id);
        }, this.graceMs);
        t.unref();
        this.timers.set(id, t);
      }
    }
    this.transport.setPeers(keep);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

/** Each bootstrap member's addresses from the flags (`--peers`, `--clients`; this member's `--http`). */
function bootstrapAddresses(config: NodeConfig): Map<NodeId, MemberAddresses> {
  const out = new Map<NodeId, MemberAddresses>();
  for (const p of config.peers) {
    const c = config.clients.find((x) => x.id === p.id);
    out.set(p.id, {
      peer: hostPort(p),
      client: c === undefined ? '' : hostPort(c),
      http: p.id === config.id && config.http !== null ? hostPort(config.http) : '',
    });
  }
  return out;
}

function bindError(what: string, a: Address, err: unknown): StartupError {
  const e = err as { code?: string; errno?: number; message?: string };
  const msg = e.message ?? String(err);
  if (e.code === 'EADDRINUSE' || /in use/i.test(msg)) {
    return new StartupError('KEEL_PORT_IN_USE', `${what} address ${hostPort(a)} is already in use`);
  }
  if (e.code === 'EADDRNOTAVAIL' || /not available|assign requested/i.test(msg)) {
    return new StartupError(
      'KEEL_BAD_ADDRESS',
      `${what} address ${hostPort(a)} is not an address of this host`,
    );
  }
  return new StartupError('KEEL_BIND_FAILED', `cannot listen on ${what} address ${hostPort(a)}: ${msg}`);
}

/**
 * Creates the data directory, proves it writable, and checks (or records) which member and
 * cluster it belongs to, so a member never starts on another member's WAL.
 */
async function prepareDataDir(config: NodeConfig): Promise<void> {
  const dir = config.dataDir;
  try {
    makeDirectory(dir);
    const probe = join(dir, `.write-test-${process.pid}`);
    const fh = await open(probe, 'w');
    await fh.writeFile('ok');
    await fh.sync();
    await fh.close();
    await rm(probe, { force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new StartupError('KEEL_DATA_DIR', `data dir ${dir} is not writable (${code})`);
  }
  const idFile = join(dir, 'member.json');
  let existing: { id?: unknown; clusterId?: unknown } | null = null;
  try {
    existing = JSON.parse(await readFile(idFile, 'utf8')) as { id?: unknown; clusterId?: unknown };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StartupError(
        'KEEL_DATA_DIR',
        `${idFile} is unreadable or corrupt; it names the member this data dir belongs to`,
      );
    }
  }
  if (existing !== null) {
    if (existing.id !== config.id || existing.clusterId !== config.clusterId) {
      throw new ConfigError(
        `data dir ${dir} belongs to member '${String(existing.id)}' of cluster '${String(existing.clusterId)}', not '${config.id}' of '${config.clusterId}'`,
      );
    }
    return;
  }
  const tmp = `${idFile}.tmp`;
  await writeFile(
    tmp,
    `${JSON.stringify({ id: config.id, clusterId: config.clusterId, createdAt: new Date().toISOString() })}\n`,
  );
  const fh = await open(tmp, 'r');
  await fh.sync();
  await fh.close();
  await rename(tmp, idFile);
  const d = await open(dir, 'r');
  await d.sync();
  await d.close();
}

export { KeelError };
