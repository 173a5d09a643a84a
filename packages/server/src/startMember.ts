import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { chunksLength, type NodeId, PeerEvent, RaftNode, realScheduler, SeededRng } from '@keel/core';
import {
  type FileSnapshotStore,
  openLog,
  openSnapshotStore,
  SnapshotError,
  WalError,
  type WalLogStore,
} from '@keel/log';
import { ClientServer, PeerTransport } from '@keel/transport-zmq';
import { type Logger, pino } from 'pino';
import { AddressBook, bootstrapAddresses } from './addressBook.js';
import { hostPort, tcpEndpoint } from './addresses.js';
import { startAdminHttp } from './adminHttp.js';
import { DepartingPeers } from './DepartingPeers.js';
import { claimDataDir } from './dataDir.js';
import { bindError, StartupError } from './errors.js';
import { warnExposure } from './exposure.js';
import { HeartbeatRtt } from './heartbeatRtt.js';
import { instrumented } from './instrumentedLog.js';
import { LeaseTimers } from './LeaseTimers.js';
import { encodeMemberAddresses } from './membership.js';
import { NodeMetrics } from './metrics.js';
import { engineTicks, type MemberOptions, resolveOptions, type ServedStateMachine } from './options.js';
import { dialAddresses } from './peerRoutes.js';
import { RequestServer } from './RequestServer.js';
import { type MemberHandle, RunningMember } from './RunningMember.js';
import { RoleWatcher } from './roleChange.js';
import { timedApply } from './timedApply.js';
import { walSyncPublisher } from './walSyncFile.js';

/**
 * Starts one cluster member of `options.stateMachine`: claims the data dir, opens the WAL and the
 * snapshot store, listens for peers and clients (and the admin HTTP API if asked), and starts the
 * engine. Rejects with `ConfigError` (the options or the data dir's owner are wrong) or
 * `StartupError` (the environment: a port in use, an unwritable dir, a corrupt WAL), having
 * released whatever it had opened.
 */
export async function startMember<Machine extends ServedStateMachine<Result>, Result>(
  options: MemberOptions<Machine, Result>,
): Promise<MemberHandle> {
  const config = resolveOptions(options);
  const log: Logger = options.logger ?? pino({ level: 'silent' });
  const onFatal =
    options.onFatal ?? ((err: Error) => log.fatal({ err }, `fatal: ${err.message}; member stopped`));
  const routes = options.peerRoutes ?? new Map();
  await claimDataDir(config);
  const metrics = new NodeMetrics(
    {
      nodeId: config.id,
      ...(options.requestLabels === undefined ? {} : { requestLabels: options.requestLabels }),
      ...(options.stateGauges === undefined ? {} : { stateGauges: options.stateGauges }),
    },
    options.metricsRegistry,
  );

  let wal: WalLogStore;
  try {
    wal = await openLog(join(config.dataDir, 'wal'), {
      logger: log.child({ component: 'wal' }),
      segmentSize: config.walSegmentBytes,
      onFsync: (seconds) => metrics.disk.walFsyncDuration.observe(seconds),
    });
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

  const curve = options.curve;
  const others = config.peers.filter((p) => p.id !== config.id);
  const peers = new PeerTransport({
    id: config.id,
    bind: tcpEndpoint(config.peerBind),
    peers: new Map(others.map((p) => [p.id, tcpEndpoint(routes.get(p.id) ?? p)])),
    logger: log.child({ component: 'transport' }),
    warnUnauthenticated: false,
    ...(curve === undefined
      ? {}
      : {
          curve: {
            publicKey: curve.publicKey,
            secretKey: curve.secretKey,
            peerKeys: new Map([...curve.peerKeys].filter(([id]) => id !== config.id)),
          },
        }),
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
    warnUnauthenticated: false,
    ...(curve === undefined
      ? {}
      : { curve: { publicKey: curve.publicKey, secretKey: curve.secretKey, clientKeys: curve.clientKeys } }),
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
  const machine = options.stateMachine;
  const { electionTicks, heartbeatTicks } = engineTicks(config);
  const raftLog = log.child({ component: 'raft' });
  const book = new AddressBook(bootstrap);
  const connected = new Map<NodeId, boolean>();
  const lastHeard = new Map<NodeId, number>();
  const roles = new RoleWatcher(metrics, raftLog, () => book.voters.includes(config.id));
  const rtt = new HeartbeatRtt(config.electionTimeoutMs, (peer, s) =>
    metrics.network.observeRoundTrip(peer, s),
  );
  let node: RaftNode<Result> | null = null;
  // Held long polls (watches) look again after each apply; the server exists only below.
  let applied = (): void => undefined;
  // The leader's lease deadlines (when the service has any), following the role below.
  let leases: LeaseTimers<Machine> | undefined;
  node = new RaftNode<Result>({
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
    storage: instrumented(
      wal,
      metrics,
      options.walSyncFile === undefined || options.walSyncFile === ''
        ? null
        : walSyncPublisher(wal, options.walSyncFile),
    ),
    transport: {
      start: (handlers) =>
        peers.start({
          message: (m) => {
            lastHeard.set(m.from, performance.now());
            rtt.received(m);
            handlers.message(m);
          },
          peer: (id, event) => {
            connected.set(id, event === PeerEvent.Connected);
            if (event === PeerEvent.Disconnected) {
              rtt.disconnected(id);
              raftLog.info({ peer: id }, 'peer connection dropped');
            }
            handlers.peer(id, event);
          },
        }),
      send: (msgs) => {
        rtt.sending(msgs);
        peers.send(msgs);
      },
      setPeers: (members) => {
        // A joining member has no configuration yet: keep the members its options name.
        if (members.size === 0) return;
        departing.update(dialAddresses(members, routes));
      },
      close: () => peers.close(),
    },
    stateMachine: timedApply(machine, (s) => metrics.disk.applyDuration.observe(s)),
    // The members named by the options stay connected until a configuration shows them leaving
    // (a joiner's first configuration may be older than the cluster's).
    peers: new Map(others.map((p) => [p.id, encodeMemberAddresses(bootstrap.get(p.id)!)])),
    snapshotStore: snapshots,
    snapshotEntries: config.snapshotEntries,
    snapshotBytes: config.snapshotBytes,
    compactKeepEntries: config.compactKeepEntries,
    // Configurations and Readys seen while the engine is being built are picked up below.
    onConf: (conf) => {
      if (node !== null) book.onConf(conf, raftLog, node.status().term);
    },
    scheduler: realScheduler,
    tickMs: config.tickMs,
    onFatal: (err) => onFatal(err),
    observer: {
      ready: (_id, rd) => {
        if (node !== null) roles.observe(rd);
        if (rd.softState !== null) leases?.setLeader(rd.softState.role === 'leader');
      },
      apply: () => applied(),
      snapshot: (_id, meta, chunks) => {
        const bytes = chunksLength(chunks);
        metrics.raft.snapshots.inc();
        metrics.raft.snapshotBytes.set(bytes);
        raftLog.info({ index: meta.index, term: meta.term, bytes }, 'snapshot taken');
      },
      restore: (_id, meta, data) => {
        applied();
        metrics.raft.snapshotsRestored.inc();
        metrics.raft.snapshotBytes.set(data.length);
        raftLog.info(
          { index: meta.index, term: meta.term, bytes: data.length, voters: meta.conf.voters },
          'state restored from snapshot',
        );
      },
    },
  });
  const deadlines = options.service.deadlines;
  if (deadlines !== undefined) {
    const raft = node;
    leases = new LeaseTimers<Machine>({
      source: deadlines,
      machine,
      scheduler: realScheduler,
      propose: (data) => raft.propose(data, () => undefined),
    });
    leases.setLeader(raft.status().role === 'leader');
  }
  const server = new RequestServer<Machine, Result>({
    ...(leases === undefined ? {} : { leases }),
    id: config.id,
    readLease: config.readLease,
    node,
    machine,
    service: options.service,
    metrics,
    clientAddress: (id) => book.get(id)?.client,
  });
  applied = () => server.applied();
  const member = new RunningMember<Machine, Result>({
    options: config,
    log,
    wal,
    snapshots,
    peers,
    departing,
    clients,
    machine,
    node,
    metrics,
    book,
    server,
    connected,
    lastHeard,
  });
  book.onConf(node.status().conf, raftLog, node.status().term);
  // Every series exists from start, the per-peer ones of the members known so far included.
  member.refreshMetrics();
  node.start();
  await clients.start((req) => server.handle(req));
  if (config.http !== null) {
    try {
      member.http = await startAdminHttp(
        config.http,
        member,
        metrics,
        options.adminToken ?? null,
        options.faultInjection === true,
      );
    } catch (err) {
      await member.stopNow();
      throw bindError('http', config.http, err);
    }
  }
  warnExposure(log, config.http, curve !== undefined, options.adminToken !== undefined, options.insecureHint);
  log.info(
    {
      secure: curve !== undefined,
      adminToken: options.adminToken !== undefined,
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
