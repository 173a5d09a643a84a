import {
  ChannelErrorCode,
  KeelError,
  type NodeId,
  type RaftNode,
  type RequestError,
  type RequestService,
  type ServiceRequest,
} from '@keel/core';
import { ClientConnection, type ClientRequest } from '@keel/transport-zmq';
import { parseAddress, tcpEndpoint } from './addresses.js';
import type { LeaseTimers } from './LeaseTimers.js';
import { secondsSince } from './metricKit.js';
import type { NodeMetrics } from './metrics.js';

const PROPOSAL_TIMEOUT_MS = 5000;
const FORWARD_TIMEOUT_MS = 5000;

/** What serving clients needs from the member around it. */
export interface RequestServerDeps<Machine, Result> {
  readonly id: NodeId;
  readonly readLease: boolean;
  readonly node: RaftNode<Result>;
  readonly machine: Machine;
  readonly service: RequestService<Machine, Result>;
  readonly metrics: NodeMetrics;
  /** A member's advertised client endpoint (`host:port`), for forwarding writes to the leader. */
  readonly clientAddress: (id: NodeId) => string | undefined;
  /** The leader's deadlines, when the service has some (`leader` requests need them). */
  readonly leases?: LeaseTimers<Machine>;
}

/**
 * The client request server of one member, for any state machine: the service decodes each
 * request into a write or a read; writes are proposed on the leader and forwarded from followers
 * (the client never needs to know who leads); reads run once safe (stale, lease, ReadIndex).
 * Every request taken gets exactly one answer.
 */
/** A long poll held until the state machine has an answer for it, or its time is up. */
interface Waiting<Machine> {
  readonly req: ClientRequest;
  readonly poll: (machine: Machine) => Uint8Array | null;
  readonly expire: (machine: Machine) => Uint8Array;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class RequestServer<Machine, Result> {
  private isStopping = false;
  /** Long polls (`wait` requests) held until the member applies something they wait for. */
  private readonly waiting = new Set<Waiting<Machine>>();
  private wakeScheduled = false;
  readonly stats = { proposals: 0, reads: 0, clientRequests: 0 };
  private forwardTo: { id: NodeId; conn: ClientConnection } | null = null;
  /** Requests taken and not yet answered. */
  private unanswered = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: RequestServerDeps<Machine, Result>) {}

  /**
   * Set when the member starts shutting down: new requests are refused as `not-leader` with the
   * leader's id when known (certainly not executed, so the client retries there at once). Held
   * long polls are answered `stopped` at once, so a client moves to another member.
   */
  get stopping(): boolean {
    return this.isStopping;
  }

  set stopping(value: boolean) {
    this.isStopping = value;
    if (!value) return;
    for (const w of [...this.waiting]) {
      this.unpark(w);
      clearTimeout(w.timer);
      this.fail(w.req, { code: 'stopped', message: 'the member is shutting down', leaderHint: this.hint() });
    }
  }

  /** Long polls held now. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /**
   * The member applied entries or restored a snapshot: held long polls are polled again, once the
   * current apply batch is done (the hook runs before each entry is applied).
   */
  applied(): void {
    if (this.wakeScheduled || this.waiting.size === 0) return;
    this.wakeScheduled = true;
    queueMicrotask(() => {
      this.wakeScheduled = false;
      for (const w of [...this.waiting]) {
        const bytes = this.pollOnce(w.req, w.poll);
        if (bytes === undefined) continue;
        this.unpark(w);
        clearTimeout(w.timer);
        if (bytes !== null) w.req.reply(bytes);
      }
    });
  }

  /** Requests taken and not yet answered. */
  get inFlight(): number {
    return this.unanswered;
  }

  /** Resolves once every request taken has been answered, or after `ms`. */
  async settle(ms: number): Promise<void> {
    if (this.unanswered === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
  }

  /** Another member to send clients to: the leader this member knows, unless that is itself. */
  private hint(): NodeId | null {
    const leader = this.deps.node.status().leader;
    return leader === this.deps.id ? null : leader;
  }

  handle(req: ClientRequest): void {
    this.stats.clientRequests++;
    this.unanswered++;
    let answered = false;
    const once = (r: Uint8Array): void => {
      if (answered) return;
      answered = true;
      if (--this.unanswered === 0) for (const w of this.idleWaiters.splice(0)) w();
      req.reply(r);
    };
    this.route({
      client: req.client,
      id: req.id,
      payload: req.payload,
      reply: once,
      fail: (message) => {
        if (answered) return;
        answered = true;
        if (--this.unanswered === 0) for (const w of this.idleWaiters.splice(0)) w();
        req.fail(message);
      },
    });
  }

  private route(req: ClientRequest): void {
    if (this.stopping) {
      this.fail(req, {
        code: 'not-leader',
        message: 'the member is shutting down',
        leaderHint: this.hint(),
      });
      return;
    }
    const request = this.deps.service.decode(req.payload);
    this.deps.metrics.requests.clientRequests.inc({ kind: request.label });
    if (request.kind === 'read') this.serveRead(req, request);
    else if (request.kind === 'write') this.serveWrite(req, request.command);
    else if (request.kind === 'wait') this.serveWait(req, request);
    else if (request.kind === 'leader') this.serveLeader(req, request);
    else this.fail(req, { code: request.code, message: request.message, leaderHint: null });
  }

  private serveRead(
    req: ClientRequest,
    request: Extract<ServiceRequest<Machine, Result>, { readonly kind: 'read' }>,
  ): void {
    if (request.consistency === 'stale') {
      this.stats.reads++;
      this.deps.metrics.requests.reads.inc({ consistency: 'stale' });
      this.answer(req, request.run(this.deps.machine));
      return;
    }
    if (request.consistency === 'lease' && !this.deps.readLease) {
      this.fail(req, {
        code: 'unsupported',
        message: 'lease reads are disabled on this member (start it with --read-lease)',
        leaderHint: null,
      });
      return;
    }
    this.deps.node.read((outcome) => {
      if (outcome.ok) {
        this.stats.reads++;
        this.deps.metrics.requests.reads.inc({ consistency: request.consistency });
        this.answer(req, request.run(this.deps.machine));
      } else if (outcome.reason === 'not-leader') {
        this.fail(req, {
          code: 'not-leader',
          message: 'no leader known',
          leaderHint: outcome.leaderHint,
        });
      } else {
        const code = outcome.reason === 'stopped' ? 'stopped' : 'timeout';
        this.fail(req, { code, message: outcome.message, leaderHint: this.hint() });
      }
    });
  }

  /**
   * Lease keep-alives and time-to-live: the leader's deadlines, never the log. The clock is read
   * at arrival, then leadership is confirmed with a ReadIndex round (a deposed leader that still
   * believes it leads cannot confirm, so it never extends a lease the new leader may expire).
   * Followers do not forward these: they answer `not-leader` with the hint.
   */
  private serveLeader(
    req: ClientRequest,
    request: Extract<ServiceRequest<Machine, Result>, { readonly kind: 'leader' }>,
  ): void {
    const leases = this.deps.leases;
    if (leases === undefined) {
      this.fail(req, { code: 'unsupported', message: 'this member keeps no deadlines', leaderHint: null });
      return;
    }
    const notLeader = (): void =>
      this.fail(req, {
        code: 'not-leader',
        message: 'lease requests are served by the leader',
        leaderHint: this.deps.node.status().leader,
      });
    if (!leases.active) {
      notLeader();
      return;
    }
    const arrivedAt = leases.now();
    this.deps.node.read((outcome) => {
      if (outcome.ok) {
        // Leadership may have moved while the round ran; then this member's deadlines are gone.
        if (!leases.active) notLeader();
        else this.answer(req, request.run(this.deps.machine, leases.view(arrivedAt)));
      } else if (outcome.reason === 'not-leader') {
        this.fail(req, { code: 'not-leader', message: 'not the leader', leaderHint: outcome.leaderHint });
      } else {
        const code = outcome.reason === 'stopped' ? 'stopped' : 'timeout';
        this.fail(req, { code, message: outcome.message, leaderHint: this.hint() });
      }
    });
  }

  private serveWrite(req: ClientRequest, command: (leaderTime: number) => Uint8Array): void {
    const status = this.deps.node.status();
    if (status.role !== 'leader') {
      if (status.leader !== null && status.leader !== this.deps.id) {
        this.forward(req, status.leader);
        return;
      }
      this.fail(req, {
        code: 'not-leader',
        message: 'no leader known yet',
        leaderHint: null,
      });
      return;
    }
    let data: Uint8Array;
    try {
      // The leader's clock, for services that stamp it on the entry (time decided by the log, §6.3).
      data = command(Date.now());
    } catch (err) {
      this.fail(req, {
        code: 'bad-request',
        message: (err as Error).message,
        leaderHint: null,
      });
      return;
    }
    this.stats.proposals++;
    const m = this.deps.metrics.requests;
    m.proposals.inc();
    m.pending++;
    const t0 = performance.now();
    let answered = false;
    const timer = setTimeout(() => {
      if (answered) return;
      answered = true;
      m.pending--;
      m.proposalsFailed.inc({ reason: 'timeout' });
      this.fail(req, {
        code: 'timeout',
        message: `not committed within ${PROPOSAL_TIMEOUT_MS} ms; it may still apply (retry within the session)`,
        leaderHint: this.deps.node.status().leader,
      });
    }, PROPOSAL_TIMEOUT_MS);
    this.deps.node.propose(data, (outcome) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      m.pending--;
      if (outcome.ok) {
        m.commitLatency.observe(secondsSince(t0));
        this.answer(req, outcome.result);
        return;
      }
      m.proposalsFailed.inc({ reason: outcome.reason });
      if (outcome.reason === 'not-leader') {
        this.fail(req, {
          code: 'not-leader',
          message: 'not the leader',
          leaderHint: outcome.leaderHint,
        });
      } else {
        // `stopped` may or may not have taken effect; the hint sends the client's retry (same session
        // seq, so executed at most once) straight to the new leader.
        this.fail(req, {
          code: outcome.reason,
          message: outcome.message,
          leaderHint: outcome.reason === 'stopped' ? this.hint() : null,
        });
      }
    });
  }

  private serveWait(
    req: ClientRequest,
    request: Extract<ServiceRequest<Machine, Result>, { readonly kind: 'wait' }>,
  ): void {
    // A member that knows no leader may be cut off from the cluster (a partition): what it applied
    // may be far behind, and it would answer progress forever. It refuses, so the client's long
    // poll moves to a member that is in touch (etcd's require-leader rule for watches).
    const status = this.deps.node.status();
    if (status.role !== 'leader' && status.leader === null) {
      this.fail(req, {
        code: 'not-leader',
        message: 'no leader known: this member may be cut off',
        leaderHint: null,
      });
      return;
    }
    const bytes = this.pollOnce(req, request.poll);
    if (bytes === null) return;
    if (bytes !== undefined) {
      req.reply(bytes);
      return;
    }
    if (request.maxWaitMs <= 0) {
      this.expire(req, request.expire);
      return;
    }
    const w: Waiting<Machine> = {
      req,
      poll: request.poll,
      expire: request.expire,
      timer: setTimeout(() => {
        if (!this.unpark(w)) return;
        this.expire(req, request.expire);
      }, request.maxWaitMs),
    };
    this.waiting.add(w);
    this.deps.metrics.requests.waiting = this.waiting.size;
  }

  /** The poll's reply, `undefined` to keep waiting, or null once it failed (and was answered). */
  private pollOnce(
    req: ClientRequest,
    poll: (machine: Machine) => Uint8Array | null,
  ): Uint8Array | null | undefined {
    try {
      return poll(this.deps.machine) ?? undefined;
    } catch (err) {
      req.fail(`cannot serve the request: ${(err as Error).message}`);
      return null;
    }
  }

  private unpark(w: Waiting<Machine>): boolean {
    const had = this.waiting.delete(w);
    this.deps.metrics.requests.waiting = this.waiting.size;
    return had;
  }

  private expire(req: ClientRequest, expire: (machine: Machine) => Uint8Array): void {
    this.send(req, () => expire(this.deps.machine));
  }

  /** A follower relays a write to the leader's client endpoint: the client never needs to know who leads. */
  private forward(req: ClientRequest, leader: NodeId): void {
    const known = this.deps.clientAddress(leader) ?? '';
    const parsed = parseAddress(known);
    const target = parsed.ok ? parsed.value : undefined;
    if (target === undefined) {
      this.fail(req, {
        code: 'not-leader',
        message: `leader is ${leader}`,
        leaderHint: leader,
      });
      return;
    }
    if (this.forwardTo === null || this.forwardTo.id !== leader) {
      const old = this.forwardTo;
      this.forwardTo = { id: leader, conn: new ClientConnection({ address: tcpEndpoint(target) }) };
      if (old !== null) void old.conn.close();
    }
    const payload = req.payload.slice();
    this.forwardTo.conn.request(payload, { timeoutMs: FORWARD_TIMEOUT_MS }).then(
      (reply) => req.reply(reply),
      (err: Error) =>
        this.fail(req, {
          // Never reached the leader: certainly not executed. Otherwise nobody knows.
          code: err instanceof KeelError && err.code === ChannelErrorCode.NotSent ? 'not-leader' : 'timeout',
          message: `forwarding to leader ${leader} failed: ${err.message}`,
          leaderHint: leader,
        }),
    );
  }

  private answer(req: ClientRequest, result: Result): void {
    this.send(req, () => this.deps.service.encodeResult(result));
  }

  private fail(req: ClientRequest, error: RequestError): void {
    this.send(req, () => this.deps.service.encodeError(error));
  }

  private send(req: ClientRequest, encode: () => Uint8Array): void {
    let bytes: Uint8Array;
    try {
      bytes = encode();
    } catch (err) {
      req.fail(`cannot encode the response: ${(err as Error).message}`);
      return;
    }
    req.reply(bytes);
  }

  /** Answers held long polls and closes the connection used for forwarding. */
  async close(): Promise<void> {
    this.stopping = true;
    this.deps.leases?.close();
    await this.forwardTo?.conn.close();
  }
}
