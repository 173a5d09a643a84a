import { checkHistory, formatViolation } from '@keel/checker';
import { Role } from '@keel/core';
import type { TestingBugs } from '@keel/core/testing';
import { type CatchUpTransferOutcome, catchUpTransfer } from './catchUpTransfer.js';
import { Property } from './invariants.js';
import { ALL_FAULTS, Fault, Nemesis } from './Nemesis.js';
import { SimCluster } from './SimCluster.js';
import { pick, Stream, streamRng } from './simRng.js';
import { Workload } from './Workload.js';

export interface SimOptions {
  /** Cluster size; default 3, 5 or 7 chosen by the seed. */
  readonly nodes?: number;
  /** Which faults the nemesis may use; default all of them. */
  readonly faults?: readonly Fault[];
  /** Virtual milliseconds of faults and client load before everything heals. Default 3000. */
  readonly faultMs?: number;
  /** After healing, a leader must be elected and clients served within this long. Default 10000. */
  readonly livenessMs?: number;
  readonly clients?: number;
  readonly keys?: number;
  /** Check the client history for linearizability. Default true. */
  readonly linearizability?: boolean;
  /** Search budget for the linearizability checker (deterministic, unlike a time limit). */
  readonly maxCheckSteps?: number;
  /** Planted engine bugs, to show the checks catch them. */
  readonly bugs?: TestingBugs;
  /**
   * How gets are served: 'log' (as entries), 'read-index' (ReadIndex, §6.4), 'lease' (ReadIndex
   * API with the engine's lease reads on). Default: 'log' or 'read-index', chosen by the seed.
   */
  readonly reads?: 'log' | 'read-index' | 'lease';
  /** Members' clock rates differ by up to this fraction (default 0.02). */
  readonly clockDrift?: number;
  /**
   * A planted client-side bug: reads skip the log and are served by whichever member believes it
   * leads. Shows that the linearizability check catches stale reads from a deposed leader.
   */
  readonly unsafeLocalReads?: boolean;
  /** A planted storage bug: disks acknowledge writes before they are durable. */
  readonly lyingDisks?: boolean;
  /**
   * Share of client operations that are multi-key transactions (0..1). Default 0: none, and the
   * run is exactly what it was before transactions existed.
   */
  readonly txns?: number;
  /** A planted state machine bug: a transaction's writes land in two steps (see `RegisterMachine`). */
  readonly splitTxnWrites?: boolean;
  /**
   * Payload bytes per AppendEntries; default drawn from the seed (64 B, 4 KiB or 1 MiB), so that
   * some runs replicate one entry per message and others whole batches.
   */
  readonly maxMsgBytes?: number;
  /** Engine switches; defaults are the engine's (on). */
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  /** Return a readable trace of the run. */
  readonly trace?: boolean;
  /**
   * Snapshot every this many applied entries; default drawn from the seed (5, 20 or 100), so that
   * compaction and snapshot installs happen a lot. 0: never.
   */
  readonly snapshotEntries?: number;
  /** Entries kept behind a snapshot; default drawn from the seed (0, 3 or 30). */
  readonly compactKeepEntries?: number;
  /** Spare hosts for membership changes; default 3 when the membership fault is on, else 0. */
  readonly spares?: number;
  /**
   * Invariants not to report: the planted-bug tests switch off the direct check for a bug to show
   * that the Raft properties further down the line catch it too.
   */
  readonly disabledChecks?: readonly Property[];
  /**
   * After the liveness phase, hand leadership to a member that must catch up by snapshot and
   * require the transfer to complete (see `catchUpTransfer`). Default: on when transfers are among
   * the faults.
   */
  readonly catchUpTransfer?: boolean;
}

export interface SimStats {
  readonly nodes: number;
  readonly faults: readonly Fault[];
  readonly reads: 'log' | 'read-index' | 'lease';
  readonly maxMsgBytes: number;
  readonly snapshotEntries: number;
  readonly compactKeepEntries: number;
  /** Snapshots saved by members, and state machines restored from one (restarts and installs). */
  readonly snapshots: { readonly taken: number; readonly restored: number };
  /** Membership changes asked for, appended, applied where proposed, refused; members retired. */
  readonly membership: {
    readonly requested: number;
    readonly proposed: number;
    readonly applied: number;
    readonly refused: number;
    readonly retired: number;
  };
  /** Virtual milliseconds simulated. */
  readonly virtualMs: number;
  readonly events: number;
  readonly messages: { sent: number; delivered: number; dropped: number; duplicated: number };
  /** Distinct leader terms. */
  readonly leaders: number;
  readonly commitIndex: number;
  readonly crashes: number;
  readonly pauses: number;
  readonly partitions: number;
  /**
   * Leadership transfers: asked for by the nemesis, accepted and begun by a leader (a transfer to
   * the leader itself is not counted), and completed (the target won the election it started on
   * TimeoutNow). The rest aborted, or their leader crashed or stepped down first.
   */
  readonly transfers: { readonly requested: number; readonly attempted: number; readonly completed: number };
  readonly ops: { ok: number; fail: number; unknown: number };
  /** Linearizability verdict: 'unknown' when the search budget ran out; 'skipped' when not run. */
  readonly linearizable: 'ok' | 'violation' | 'unknown' | 'skipped';
  /** Virtual ms from healing to a served cluster (null if not reached). */
  readonly recoveryMs: number | null;
  /** The catch-up transfer phase (null when not run). */
  readonly catchUpTransfer: CatchUpTransferOutcome | null;
}

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  /** One line each: `<property> at <time>ms on <node>: <what>`. */
  readonly violations: string[];
  readonly stats: SimStats;
  readonly trace?: string[];
}

const CLUSTER_SIZES = [3, 5, 7] as const;

/** The cluster size a seed gets when none is given. */
export function nodesForSeed(seed: number): number {
  return CLUSTER_SIZES[Math.abs(seed) % CLUSTER_SIZES.length]!;
}

/**
 * One simulated run, fully determined by `seed` and `options`:
 * 1. boot the cluster, start the clients and the nemesis for `faultMs` of virtual time, checking
 *    the safety invariants after every event (the run stops at the first violation);
 * 2. heal everything and require a leader, applied logs that agree and every client served, within
 *    `livenessMs`;
 * 3. check the client history for linearizability.
 */
export function runSeed(seed: number, options: SimOptions = {}): SimResult {
  const nodes = options.nodes ?? nodesForSeed(seed);
  const faults = options.faults ?? ALL_FAULTS;
  const faultMs = options.faultMs ?? 3000;
  const livenessMs = options.livenessMs ?? 10_000;
  const configRng = streamRng(seed, Stream.Config);
  const maxMsgBytes = options.maxMsgBytes ?? pick(configRng, [64, 4096, 1024 * 1024]);
  const reads = options.reads ?? pick(configRng, ['log', 'read-index'] as const);
  const snapshotEntries = options.snapshotEntries ?? pick(configRng, [5, 20, 100]);
  const compactKeepEntries = options.compactKeepEntries ?? pick(configRng, [0, 3, 30]);
  const spares = options.spares ?? (faults.includes(Fault.Membership) ? 3 : 0);
  const cluster = new SimCluster({
    seed,
    nodes,
    maxMsgBytes,
    snapshotEntries,
    compactKeepEntries,
    spares,
    ...(options.preVote !== undefined ? { preVote: options.preVote } : {}),
    ...(options.checkQuorum !== undefined ? { checkQuorum: options.checkQuorum } : {}),
    ...(options.bugs !== undefined ? { bugs: options.bugs } : {}),
    ...(options.trace === true ? { trace: true } : {}),
    ...(options.disabledChecks !== undefined ? { disabledChecks: options.disabledChecks } : {}),
    ...(options.lyingDisks === true ? { lyingDisks: true } : {}),
    ...(options.splitTxnWrites === true ? { splitTxnWrites: true } : {}),
    ...(reads === 'lease' ? { readLease: true } : {}),
    ...(options.clockDrift !== undefined ? { clockDrift: options.clockDrift } : {}),
  });
  const { sched, checker } = cluster;
  const workload = new Workload(
    sched,
    streamRng(seed, Stream.Workload),
    cluster,
    {
      clients: options.clients ?? 3,
      keys: options.keys ?? 2,
      opTimeoutMs: 1000,
      thinkMs: [2, 40],
      latencyMs: 0.5,
      reads: options.unsafeLocalReads === true ? 'unsafe-local' : reads === 'log' ? 'log' : 'read-index',
      ...(options.txns !== undefined ? { txns: options.txns } : {}),
    },
    cluster.tracing ? (who, what) => cluster.trace(who, what) : null,
  );
  const nemesis = new Nemesis(sched, streamRng(seed, Stream.Nemesis), cluster, faults);
  cluster.onSnapshotTaken = (id) => nemesis.aroundCompaction(id);
  cluster.trace(
    'sim',
    `seed ${seed}: ${nodes} nodes, faults ${faults.length > 0 ? faults.join(',') : 'none'}, reads ${reads}, ` +
      `${maxMsgBytes} bytes per append, snapshot every ${snapshotEntries} entries keeping ${compactKeepEntries}` +
      `${spares > 0 ? `, ${spares} spares` : ''}`,
  );

  let recoveryMs: number | null = null;
  let handover: CatchUpTransferOutcome | null = null;
  let linearizable: SimStats['linearizable'] = 'skipped';
  const stopped = (): boolean => !checker.ok;
  try {
    cluster.start();
    workload.start();
    nemesis.start(100, faultMs);
    sched.runUntil(faultMs, stopped);

    if (checker.ok) {
      nemesis.healAll();
      const healedAt = sched.now();
      let served = false;
      const probe = (): void => {
        if (served) return;
        if (isServed(cluster, workload, healedAt)) {
          served = true;
          recoveryMs = sched.now() - healedAt;
          cluster.trace('sim', `liveness: served ${recoveryMs.toFixed(1)}ms after healing`);
          return;
        }
        sched.after(10, probe);
      };
      sched.after(10, probe);
      sched.runUntil(healedAt + livenessMs, () => served || !checker.ok);
      if (checker.ok && !served) {
        checker.report(
          Property.Liveness,
          null,
          `not served within ${livenessMs}ms of healing: ${describeCluster(cluster)}; ops ${JSON.stringify(workload.stats)}`,
        );
      }
      if (checker.ok && (options.catchUpTransfer ?? faults.includes(Fault.Transfer))) {
        handover = catchUpTransfer(cluster, seed, { prepareMs: 3000, boundMs: 500 });
      }
    }
    workload.stop();
    if (checker.ok) cluster.checkStores();
    if (checker.ok) cluster.checkDurability();

    if (checker.ok && options.linearizability !== false) {
      const r = checkHistory(workload.history(), { maxSteps: options.maxCheckSteps ?? 2_000_000 });
      linearizable = r.verdict;
      if (r.verdict === 'violation') {
        for (const v of r.violations) {
          checker.report(Property.Linearizability, null, formatViolation(v, { maxWindow: 20 }));
        }
      }
    }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    checker.report(Property.Fatal, null, `uncaught ${e.name}: ${e.message}`);
    cluster.trace('sim', e.stack ?? e.message);
  }

  const ops = workload.stats;
  const stats: SimStats = {
    nodes,
    faults,
    reads,
    maxMsgBytes,
    snapshotEntries,
    compactKeepEntries,
    snapshots: { taken: cluster.snapshots.taken, restored: cluster.snapshots.installed },
    membership: { requested: nemesis.stats.membership, ...cluster.membership },
    virtualMs: sched.now(),
    events: sched.executed,
    messages: { ...cluster.network.stats },
    leaders: checker.leaders,
    commitIndex: checker.commitIndex,
    crashes: nemesis.stats.crashes,
    pauses: nemesis.stats.pauses,
    partitions: nemesis.stats.partitions,
    transfers: {
      requested: nemesis.stats.transfers,
      attempted: cluster.transfers.attempted,
      completed: cluster.transfers.completed,
    },
    ops: { ok: ops.ok, fail: ops.fail, unknown: ops.unknown + ops.pending },
    linearizable,
    recoveryMs,
    catchUpTransfer: handover,
  };
  const violations = checker.violations.map(
    (v) => `${v.property} at ${v.time.toFixed(3)}ms${v.node !== null ? ` on ${v.node}` : ''}: ${v.message}`,
  );
  const result: SimResult = { seed, ok: violations.length === 0, violations, stats };
  return cluster.traceLines !== null ? { ...result, trace: cluster.traceLines } : result;
}

/**
 * Served: one leader that every member follows in its term, a commit in that term, every member
 * applied up to it, and every client got an answer to an operation it invoked after healing.
 */
function isServed(cluster: SimCluster, workload: Workload, healedAt: number): boolean {
  const leaderId = cluster.leader();
  if (leaderId === null) return false;
  const leader = cluster.node(leaderId)!.status();
  if (cluster.disk(leaderId).term(leader.commitIndex) !== leader.term) return false;
  // Every member of the leader's configuration; hosts outside it (spares, removed members
  // waiting to be retired) have nothing to serve.
  for (const id of [...leader.conf.voters, ...leader.conf.learners]) {
    const n = cluster.node(id);
    if (n === null || cluster.isPaused(id)) return false;
    const s = n.status();
    if (s.term !== leader.term || s.leader !== leaderId || s.appliedIndex !== leader.commitIndex)
      return false;
  }
  return workload.allOkSince(healedAt);
}

function describeCluster(cluster: SimCluster): string {
  return cluster.members
    .map((id) => {
      const n = cluster.node(id);
      if (n === null) return `${id} down`;
      const s = n.status();
      const role = s.role === Role.Leader ? 'LEADER' : s.role;
      return (
        `${id} ${role} t${s.term} leader=${s.leader ?? '-'} commit=${s.commitIndex} applied=${s.appliedIndex} ` +
        `first=${s.firstIndex} last=${s.lastIndex} voters=${s.conf.voters.join(',')}` +
        (s.conf.learners.length > 0 ? ` learners=${s.conf.learners.join(',')}` : '')
      );
    })
    .join('; ');
}
