import {
  LoopbackNetwork,
  type NodeId,
  type ProposeOutcome,
  RaftNode,
  realScheduler,
  SeededRng,
  type Transport,
} from '@keel/core';
import { MemoryLogStore, MemorySnapshotStore } from '@keel/core/testing';
import type { Propose } from './client.js';
import type { JobResult } from './commands.js';
import { OutcomeUnknownError, UnavailableError } from './errors.js';
import { JobQueue } from './JobQueue.js';

/** One member of an in-process cluster: its driver and its copy of the queue. */
export interface InProcessMember {
  readonly id: NodeId;
  readonly node: RaftNode<JobResult>;
  readonly queue: JobQueue;
}

export interface InProcessClusterOptions {
  /** Seeds the members' election randomness (default 1). */
  readonly seed?: number;
  /** Take a snapshot every this many applied entries (default 10,000; small values exercise §7). */
  readonly snapshotEntries?: number;
  /** How long `propose` keeps looking for a leader before giving up (default 10 s). */
  readonly proposeTimeoutMs?: number;
}

export interface InProcessCluster {
  /** The members still running. */
  readonly members: ReadonlyMap<NodeId, InProcessMember>;
  /** Commits a command through whichever member leads; hand it to a JobQueueClient. */
  readonly propose: Propose;
  /** The running member that believes it leads, if any (a hint: it may be deposed already). */
  leader(): InProcessMember | null;
  /** Crashes member `id`: its driver stops, it leaves the network, it keeps only what was durable. */
  kill(id: NodeId): Promise<void>;
  /** Starts a killed member again from what its disks kept; it catches up from the leader. */
  restart(id: NodeId): void;
  /** Stops every member and the network; no timer is left behind. */
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A job-queue cluster inside this process: RaftNode + MemoryLogStore + LoopbackNetwork +
 * realScheduler + JobQueue per member. For tests and demos; nothing survives the process (a killed
 * member restarts from its in-memory "disks").
 */
export function startInProcessCluster(
  ids: readonly NodeId[],
  options: InProcessClusterOptions = {},
): InProcessCluster {
  const net = new LoopbackNetwork();
  const members = new Map<NodeId, InProcessMember>();
  const transports = new Map<NodeId, Transport>();
  /** Each member's "disks": what a killed member restarts from. */
  const disks = new Map<NodeId, { log: MemoryLogStore; snapshots: MemorySnapshotStore }>();
  const snapshotEntries = options.snapshotEntries ?? 10_000;

  const start = (id: NodeId): void => {
    const disk = disks.get(id) ?? {
      log: new MemoryLogStore(),
      snapshots: new MemorySnapshotStore({ schedule: realScheduler.defer }),
    };
    disks.set(id, disk);
    const queue = new JobQueue();
    const transport = net.transport(id);
    transports.set(id, transport);
    const node = new RaftNode<JobResult>({
      raft: { id, voters: [...ids], rng: new SeededRng((options.seed ?? 1) * 1000 + ids.indexOf(id)) },
      storage: disk.log,
      snapshotStore: disk.snapshots,
      snapshotEntries,
      compactKeepEntries: Math.min(5_000, Math.floor(snapshotEntries / 2)),
      transport,
      stateMachine: queue,
      scheduler: realScheduler,
    });
    members.set(id, { id, node, queue });
    node.start();
  };
  for (const id of ids) start(id);

  const leader = (): InProcessMember | null => {
    for (const m of members.values()) if (m.node.status().role === 'leader') return m;
    return null;
  };

  const timeoutMs = options.proposeTimeoutMs ?? 10_000;
  const propose: Propose = async (command) => {
    const deadline = Date.now() + timeoutMs;
    let hint: NodeId | null = null;
    for (;;) {
      const target = (hint !== null ? members.get(hint) : undefined) ?? leader();
      hint = null;
      if (target !== undefined && target !== null) {
        const o = await new Promise<ProposeOutcome<JobResult>>((resolve) =>
          target.node.propose(command, resolve),
        );
        if (o.ok) return o.result;
        if (o.reason === 'stopped') throw new OutcomeUnknownError(`${target.id} stopped: ${o.message}`);
        // not-leader and proposal-dropped: the command was not (and will never be) applied; try again.
        if (o.reason === 'not-leader') hint = o.leaderHint;
      }
      if (Date.now() > deadline)
        throw new UnavailableError(`no leader accepted the command in ${timeoutMs} ms`);
      await sleep(5);
    }
  };

  return {
    members,
    propose,
    leader,
    async kill(id) {
      const m = members.get(id);
      if (m === undefined) return;
      members.delete(id);
      m.node.stop();
      await transports.get(id)?.close();
      // What survives the crash: only what was durable (a power loss, not a clean shutdown).
      const disk = disks.get(id)!;
      disks.set(id, { log: disk.log.crash(), snapshots: disk.snapshots.crash() });
    },
    restart(id) {
      if (members.has(id) || !disks.has(id)) return;
      start(id);
    },
    async close() {
      for (const m of members.values()) m.node.stop();
      members.clear();
      net.close();
    },
  };
}
