import type { NodeId, RaftNode, StoredSnapshot, TransferResult } from '@keel/core';
import type { FileSnapshotStore, WalLogStore } from '@keel/log';
import type { ClientServer, PeerTransport } from '@keel/transport-zmq';
import type { Logger } from 'pino';
import type { AddressBook } from './addressBook.js';
import { hostPort } from './addresses.js';
import type { AdminHttpServer } from './adminHttp.js';
import type { DepartingPeers } from './DepartingPeers.js';
import type { MemberAddresses, MemberChangeReply, MemberChangeRequest, MembersView } from './membership.js';
import { changeMembers, type MembershipContext, membersView } from './membershipOps.js';
import type { NodeMetrics } from './metrics.js';
import type { ResolvedOptions, ServedStateMachine } from './options.js';
import type { RequestServer } from './RequestServer.js';
import type { MemberStatus } from './status.js';

/** Graceful stop: how long requests in flight may take to complete once leadership has moved. */
const SETTLE_MS = 300;
/** Graceful stop: how long the client endpoint may take to put the last answers on the wire. */
const DRAIN_MS = 200;

/** A running member, as `startMember` returns it. */
export interface MemberHandle {
  readonly id: NodeId;
  /** The member's view (`GET /status`); `withHash` adds the state machine's fingerprint if it has `stateHash()`. */
  status(withHash?: boolean): MemberStatus;
  /** The configuration with every member's addresses (`GET /members`). */
  members(): MembersView;
  /** One membership change, on the leader: add (a learner by default), promote or remove (`POST /members`). */
  changeMembers(req: MemberChangeRequest): Promise<MemberChangeReply>;
  /** Adds a member, as a learner unless `learner: false` (it votes only once promoted). */
  addMember(
    id: NodeId,
    addresses: Partial<MemberAddresses>,
    options?: { readonly learner?: boolean },
  ): Promise<MemberChangeReply>;
  /** Makes a learner a voter; refused while it lags (`learner-not-ready`) unless `force`. */
  promoteMember(id: NodeId, options?: { readonly force?: boolean }): Promise<MemberChangeReply>;
  removeMember(id: NodeId): Promise<MemberChangeReply>;
  /** Hands leadership to `to` (leader only); the outcome shows in `status()` within an election timeout. */
  transfer(to: NodeId): TransferResult;
  /** Snapshots the state now (false: nothing new since the last one, or one is under way). */
  snapshotNow(): boolean;
  /**
   * Fault injection: cuts this member off from every peer, both ways (true), or heals it (false).
   * Clients still reach it. For experiments; the admin API offers it only with `faultInjection`.
   */
  isolate(on: boolean): void;
  /** The member's Prometheus metrics, refreshed (the text `GET /metrics` serves). */
  metricsText(): Promise<string>;
  /**
   * Graceful stop: refuse new requests with a leader hint, hand leadership over, let requests in
   * flight settle, stop the engine, drain answers, close. Resolves when everything is closed.
   */
  close(): Promise<void>;
}

/** The parts `startMember` composes, handed to the running member. */
export interface MemberParts<Machine extends ServedStateMachine<Result>, Result> {
  readonly options: ResolvedOptions;
  readonly log: Logger;
  readonly wal: WalLogStore;
  readonly snapshots: FileSnapshotStore;
  readonly peers: PeerTransport;
  readonly departing: DepartingPeers;
  readonly clients: ClientServer;
  readonly machine: Machine;
  readonly node: RaftNode<Result>;
  readonly metrics: NodeMetrics;
  readonly book: AddressBook;
  readonly server: RequestServer<Machine, Result>;
  /** Peer connection state and when each peer was last heard from (performance.now()), kept by the transport hooks. */
  readonly connected: ReadonlyMap<NodeId, boolean>;
  readonly lastHeard: ReadonlyMap<NodeId, number>;
}

export class RunningMember<Machine extends ServedStateMachine<Result>, Result> implements MemberHandle {
  readonly id: NodeId;
  private readonly started = performance.now();
  private stopping = false;
  private closed: Promise<void> | null = null;
  /** The admin HTTP endpoint, once started. */
  http: AdminHttpServer | null = null;
  private readonly membership: MembershipContext;

  constructor(private readonly p: MemberParts<Machine, Result>) {
    this.id = p.options.id;
    this.membership = {
      id: p.options.id,
      node: p.node as RaftNode<unknown>,
      book: p.book,
      log: p.log,
      electionTimeoutMs: p.options.electionTimeoutMs,
    };
  }

  members(): MembersView {
    return membersView(this.membership);
  }

  changeMembers(req: MemberChangeRequest): Promise<MemberChangeReply> {
    return changeMembers(this.membership, req);
  }

  addMember(
    id: NodeId,
    addresses: Partial<MemberAddresses>,
    options: { readonly learner?: boolean } = {},
  ): Promise<MemberChangeReply> {
    return this.changeMembers({
      action: 'add',
      id,
      ...addresses,
      ...(options.learner === undefined ? {} : { learner: options.learner }),
    });
  }

  promoteMember(id: NodeId, options: { readonly force?: boolean } = {}): Promise<MemberChangeReply> {
    return this.changeMembers({
      action: 'promote',
      id,
      ...(options.force === undefined ? {} : { force: options.force }),
    });
  }

  removeMember(id: NodeId): Promise<MemberChangeReply> {
    return this.changeMembers({ action: 'remove', id });
  }

  transfer(to: NodeId): TransferResult {
    return this.p.node.transferLeader(to);
  }

  isolate(on: boolean): void {
    this.p.peers.isolate(on);
  }

  snapshotNow(): boolean {
    return this.p.node.takeSnapshot();
  }

  /**
   * Waits until this member's state holds every write committed before the call (a ReadIndex
   * read, §6.4: on a follower the leader confirms the index), and answers the applied index then.
   */
  readBarrier(): Promise<number> {
    return new Promise((resolve, reject) =>
      this.p.node.read((outcome) => {
        if (outcome.ok) resolve(Math.max(outcome.index, this.p.node.status().appliedIndex));
        else
          reject(
            new Error(
              outcome.reason === 'not-leader'
                ? `no leader to confirm the read index (leader hint ${outcome.leaderHint ?? 'none'})`
                : `${outcome.reason}: ${outcome.message}`,
            ),
          );
      }),
    );
  }

  /** The latest snapshot saved on disk, meta and bytes (`GET /snapshot`). */
  latestSnapshot(): StoredSnapshot | null {
    return this.p.snapshots.load();
  }

  /** `POST /snapshot` (the admin API's name). */
  takeSnapshot(): boolean {
    return this.snapshotNow();
  }

  status(withHash = false): MemberStatus {
    const { node, options: o, book, server, machine } = this.p;
    const s = node.status();
    const wal = this.p.wal.metrics;
    const hash = withHash ? machine.stateHash?.() : undefined;
    return {
      id: s.id,
      clusterId: o.clusterId,
      role: s.role,
      term: s.term,
      leader: s.leader,
      commitIndex: s.commitIndex,
      appliedIndex: s.appliedIndex,
      lastIndex: s.lastIndex,
      peers: book.others(o.id).map((id) => {
        const pr = node.progress(id);
        const heard = this.p.lastHeard.get(id);
        return {
          id,
          match: pr?.match ?? null,
          next: pr?.next ?? null,
          state: pr?.state ?? null,
          connected: this.p.connected.get(id) ?? false,
          lastContactMs: heard === undefined ? null : Math.round(performance.now() - heard),
        };
      }),
      addresses: {
        peer: hostPort(o.peerBind),
        client: hostPort(o.clientBind),
        http: o.http === null ? null : hostPort(o.http),
      },
      wal: { fsyncs: wal.fsyncs, bytesWritten: wal.bytesWritten, entriesPerFsync: wal.entriesPerFsync },
      stats: { ...server.stats },
      pid: process.pid,
      uptimeMs: Math.round(performance.now() - this.started),
      ...(hash !== undefined ? { stateHash: hash } : {}),
      conf: { voters: s.conf.voters, learners: s.conf.learners },
      isolated: this.p.peers.isolated,
      firstIndex: s.firstIndex,
      snapshotIndex: s.snapshotIndex,
    };
  }

  /** Refreshes the gauges that mirror engine, WAL and transport state (called at scrape time). */
  refreshMetrics(): void {
    const { metrics: m, node } = this.p;
    const s = node.status();
    m.raft.refresh(s);
    m.disk.refresh(this.p.wal.metrics);
    const lag = (peer: NodeId): number =>
      s.role === 'leader' ? Math.max(0, s.lastIndex - (node.progress(peer)?.match ?? 0)) : 0;
    m.network.refresh(this.p.peers.metrics, this.p.book.others(this.id), lag);
  }

  metricsText(): Promise<string> {
    this.refreshMetrics();
    return this.p.metrics.text();
  }

  /**
   * Graceful stop, in an order where every request gets an answer on the wire:
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
  close(): Promise<void> {
    if (this.stopping) return this.closed ?? Promise.resolve();
    this.stopping = true;
    this.closed = this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    const { node, log, server } = this.p;
    server.stopping = true;
    const s = node.status();
    if (s.role === 'leader') {
      const target = this.bestFollower();
      if (target !== null) {
        log.info({ term: s.term, to: target }, 'transferring leadership before shutdown');
        node.transferLeader(target);
        const deadline = performance.now() + this.p.options.electionTimeoutMs * 2;
        while (node.status().role === 'leader' && performance.now() < deadline) await sleep(5);
        log.info({ term: node.status().term, leader: node.status().leader }, 'leadership handed over');
      }
    }
    const settling = server.inFlight;
    await server.settle(SETTLE_MS);
    log.info({ inFlight: settling, unanswered: server.inFlight }, 'requests in flight settled');
    await this.stopNow();
  }

  private bestFollower(): NodeId | null {
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const id of this.p.book.voters) {
      if (id === this.id) continue;
      const pr = this.p.node.progress(id);
      if (pr !== null && pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    }
    return best;
  }

  /**
   * Stops at once (steps 4 and 5 of `close`): a startup that fails half-way, or the end of a
   * graceful stop.
   */
  async stopNow(): Promise<void> {
    this.stopping = true;
    const { node, departing, server, clients, peers, snapshots, wal, log } = this.p;
    server.stopping = true;
    // Answers every waiter (`stopped`); the drain below puts those answers on the wire.
    node.stop();
    departing.close();
    await server.close();
    await Promise.allSettled([this.http?.close(), clients.drain(DRAIN_MS), peers.close()]);
    await snapshots.close().catch((err: unknown) => log.error({ err }, 'saving a snapshot failed'));
    await wal.close().catch((err: unknown) => log.error({ err }, 'closing the WAL failed'));
    log.info({ term: node.status().term }, 'member stopped');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
