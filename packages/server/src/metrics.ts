import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const ROLES = ['follower', 'pre-candidate', 'candidate', 'leader'] as const;

/** Prometheus metrics of one member. Gauges that mirror engine state are read at scrape time. */
export class NodeMetrics {
  readonly term: Gauge;
  readonly role: Gauge;
  readonly isLeader: Gauge;
  readonly leader: Gauge;
  readonly commitIndex: Gauge;
  readonly appliedIndex: Gauge;
  readonly lastIndex: Gauge;
  readonly proposals: Counter;
  readonly proposalsFailed: Counter;
  readonly reads: Counter;
  readonly commitLatency: Histogram;
  readonly fsyncLatency: Histogram;
  readonly electionsStarted: Counter;
  readonly electionsWon: Counter;
  readonly messagesSent: Gauge;
  readonly messagesDropped: Gauge;
  readonly messagesReceived: Gauge;
  readonly peerFramesRejected: Counter;
  readonly walBytes: Gauge;
  readonly walFsyncs: Gauge;
  readonly walEntriesPerFsync: Gauge;
  readonly clientRequests: Counter;
  readonly snapshots: Counter;
  readonly snapshotsRestored: Counter;
  readonly snapshotBytes: Gauge;

  /** `registry`: where to register (default: a new one); it gets the default label `node_id`. */
  constructor(
    labels: { nodeId: string },
    readonly registry: Registry = new Registry(),
  ) {
    const r = this.registry;
    r.setDefaultLabels({ node_id: labels.nodeId });
    const g = (name: string, help: string, labelNames: string[] = []) =>
      new Gauge({ name, help, labelNames, registers: [r] });
    const c = (name: string, help: string, labelNames: string[] = []) =>
      new Counter({ name, help, labelNames, registers: [r] });
    this.term = g('keel_raft_term', 'Current Raft term');
    this.role = g('keel_raft_role', 'Current role (1 for the active role)', ['role']);
    this.isLeader = g('keel_raft_is_leader', '1 if this member is the leader');
    this.leader = g(
      'keel_raft_leader',
      'The leader this member knows (1 on the label of its id; none: no series)',
      ['leader'],
    );
    this.commitIndex = g('keel_raft_commit_index', 'Highest committed log index');
    this.appliedIndex = g('keel_raft_applied_index', 'Highest applied log index');
    this.lastIndex = g('keel_raft_last_index', 'Last log index');
    this.proposals = c('keel_proposals_total', 'Commands proposed by this member as leader');
    this.proposalsFailed = c('keel_proposals_failed_total', 'Proposals rejected or dropped', ['reason']);
    this.reads = c('keel_reads_total', 'Reads served', ['consistency']);
    this.commitLatency = new Histogram({
      name: 'keel_commit_latency_seconds',
      help: 'Proposal to applied on the leader',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [r],
    });
    this.fsyncLatency = new Histogram({
      name: 'keel_wal_append_durable_seconds',
      help: 'WAL append to durable (fsync), batching included',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1],
      registers: [r],
    });
    this.electionsStarted = c('keel_elections_started_total', 'Campaigns started (pre-vote or vote)');
    this.electionsWon = c('keel_elections_won_total', 'Elections won');
    this.messagesSent = g('keel_peer_messages_sent', 'Raft messages handed to the transport (cumulative)');
    this.messagesDropped = g(
      'keel_peer_messages_dropped',
      'Raft messages dropped by the transport (cumulative)',
      ['reason'],
    );
    this.messagesReceived = g('keel_peer_messages_received', 'Raft messages received (cumulative)');
    this.peerFramesRejected = c(
      'keel_peer_frames_rejected_total',
      'Peer frames rejected, none of their messages applied (invalid routing id, unknown peer, misaddressed, decode failure)',
      ['reason'],
    );
    this.walBytes = g('keel_wal_bytes_written', 'Bytes written to WAL segments (cumulative)');
    this.walFsyncs = g('keel_wal_fsyncs', 'WAL fdatasync calls (cumulative)');
    this.walEntriesPerFsync = g('keel_wal_entries_per_fsync', 'Entries made durable per fsync (average)');
    this.clientRequests = c('keel_client_requests_total', 'Client requests received', ['kind']);
    for (const role of ROLES) this.role.set({ role }, 0);
    this.snapshots = c('keel_snapshots_total', 'Snapshots taken by this member');
    this.snapshotsRestored = c(
      'keel_snapshots_restored_total',
      'State restored from a snapshot (startup or install)',
    );
    this.snapshotBytes = g('keel_snapshot_bytes', 'Size of the latest snapshot taken or restored');
    // Node's process metrics, among them the event-loop lag (nodejs_eventloop_lag_max_seconds and
    // percentiles, measured every 10 ms and reset at each scrape): how long the member stalled
    // between scrapes, e.g. while it encoded a snapshot.
    collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: 10 });
  }

  setRole(role: string): void {
    for (const r of ROLES) this.role.set({ role: r }, r === role ? 1 : 0);
    this.isLeader.set(role === 'leader' ? 1 : 0);
  }

  /** Mirrors the transport's cumulative per-reason counts into the counter. */
  setPeerFramesRejected(counts: Readonly<Record<string, number>>): void {
    this.peerFramesRejected.reset();
    for (const [reason, n] of Object.entries(counts)) this.peerFramesRejected.inc({ reason }, n);
  }

  setLeader(leader: string | null): void {
    this.leader.reset();
    if (leader !== null) this.leader.set({ leader }, 1);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
