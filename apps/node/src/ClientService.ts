import { ChannelErrorCode, DecodeError, KeelError, type NodeId, type RaftNode } from '@keel/core';
import {
  decodeRequest,
  encodeEntry,
  encodeResponse,
  isWriteCommand,
  type KvRequest,
  type KvResponse,
  type KvResult,
  type KvStateMachine,
} from '@keel/kv';
import { ClientConnection, type ClientRequest } from '@keel/transport-zmq';
import type { NodeMetrics } from './metrics.js';
import { tcpEndpoint } from './peerRoutes.js';
import { parseAddress } from './peers.js';

const PROPOSAL_TIMEOUT_MS = 5000;
const FORWARD_TIMEOUT_MS = 5000;

/** What serving clients needs from the member around it. */
export interface ClientServiceDeps {
  readonly id: NodeId;
  readonly readLease: boolean;
  readonly node: RaftNode<KvResult>;
  readonly sm: KvStateMachine;
  readonly metrics: NodeMetrics;
  /** A member's advertised client endpoint (`host:port`), for forwarding writes to the leader. */
  readonly clientAddress: (id: NodeId) => string | undefined;
}

/**
 * The KV request server of one member: decodes client requests, serves reads (stale, lease,
 * ReadIndex), proposes writes on the leader and forwards them from followers.
 */
export class ClientService {
  /**
   * Set when the member starts shutting down: new requests are refused as `not-leader` with the
   * leader's id when known (certainly not executed, so the client retries there at once).
   */
  stopping = false;
  readonly stats = { proposals: 0, reads: 0, clientRequests: 0 };
  private forwardTo: { id: NodeId; conn: ClientConnection } | null = null;
  /** Requests taken and not yet answered. */
  private unanswered = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: ClientServiceDeps) {}

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
      this.reply(req, {
        kind: 'error',
        code: 'not-leader',
        message: 'the member is shutting down',
        leaderHint: this.hint(),
      });
      return;
    }
    let request: KvRequest;
    try {
      request = decodeRequest(req.payload);
    } catch (err) {
      this.deps.metrics.clientRequests.inc({ kind: 'malformed' });
      const message = err instanceof DecodeError ? err.message : 'malformed request';
      this.reply(req, { kind: 'error', code: 'bad-request', message, leaderHint: null });
      return;
    }
    const cmd = request.command;
    this.deps.metrics.clientRequests.inc({ kind: cmd.type });
    if (cmd.type === 'get' || cmd.type === 'scan') {
      this.serveRead(req, request);
      return;
    }
    if (
      isWriteCommand(cmd) ||
      cmd.type === 'registerSession' ||
      cmd.type === 'keepAlive' ||
      cmd.type === 'closeSession'
    ) {
      this.serveWrite(req, request);
      return;
    }
    this.reply(req, { kind: 'error', code: 'unsupported', message: `unsupported command`, leaderHint: null });
  }

  private serveRead(req: ClientRequest, request: KvRequest): void {
    const cmd = request.command;
    if (cmd.type !== 'get' && cmd.type !== 'scan') return;
    if (request.consistency === 'stale') {
      this.stats.reads++;
      this.deps.metrics.reads.inc({ consistency: 'stale' });
      this.reply(req, { kind: 'result', result: this.deps.sm.read(cmd) });
      return;
    }
    if (request.consistency === 'lease' && !this.deps.readLease) {
      this.reply(req, {
        kind: 'error',
        code: 'unsupported',
        message: 'lease reads are disabled on this member (start it with --read-lease)',
        leaderHint: null,
      });
      return;
    }
    this.deps.node.read((outcome) => {
      if (outcome.ok) {
        this.stats.reads++;
        this.deps.metrics.reads.inc({ consistency: request.consistency });
        this.reply(req, { kind: 'result', result: this.deps.sm.read(cmd) });
      } else if (outcome.reason === 'not-leader') {
        this.reply(req, {
          kind: 'error',
          code: 'not-leader',
          message: 'no leader known',
          leaderHint: outcome.leaderHint,
        });
      } else {
        const code = outcome.reason === 'stopped' ? 'stopped' : 'timeout';
        this.reply(req, { kind: 'error', code, message: outcome.message, leaderHint: this.hint() });
      }
    });
  }

  private serveWrite(req: ClientRequest, request: KvRequest): void {
    const status = this.deps.node.status();
    if (status.role !== 'leader') {
      if (status.leader !== null && status.leader !== this.deps.id) {
        this.forward(req, status.leader);
        return;
      }
      this.reply(req, {
        kind: 'error',
        code: 'not-leader',
        message: 'no leader known yet',
        leaderHint: null,
      });
      return;
    }
    let data: Uint8Array;
    try {
      // The leader stamps its clock on the entry: sessions expire by log time, never local time (§6.3).
      data = encodeEntry({ time: Date.now(), command: request.command }).slice();
    } catch (err) {
      this.reply(req, {
        kind: 'error',
        code: 'bad-request',
        message: (err as Error).message,
        leaderHint: null,
      });
      return;
    }
    this.stats.proposals++;
    this.deps.metrics.proposals.inc();
    const t0 = performance.now();
    let answered = false;
    const timer = setTimeout(() => {
      if (answered) return;
      answered = true;
      this.deps.metrics.proposalsFailed.inc({ reason: 'timeout' });
      this.reply(req, {
        kind: 'error',
        code: 'timeout',
        message: `not committed within ${PROPOSAL_TIMEOUT_MS} ms; it may still apply (retry within the session)`,
        leaderHint: this.deps.node.status().leader,
      });
    }, PROPOSAL_TIMEOUT_MS);
    this.deps.node.propose(data, (outcome) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      if (outcome.ok) {
        this.deps.metrics.commitLatency.observe((performance.now() - t0) / 1000);
        this.reply(req, { kind: 'result', result: outcome.result });
        return;
      }
      this.deps.metrics.proposalsFailed.inc({ reason: outcome.reason });
      if (outcome.reason === 'not-leader') {
        this.reply(req, {
          kind: 'error',
          code: 'not-leader',
          message: 'not the leader',
          leaderHint: outcome.leaderHint,
        });
      } else {
        // `stopped` may or may not have taken effect; the hint sends the client's retry (same session
        // seq, so executed at most once) straight to the new leader.
        this.reply(req, {
          kind: 'error',
          code: outcome.reason,
          message: outcome.message,
          leaderHint: outcome.reason === 'stopped' ? this.hint() : null,
        });
      }
    });
  }

  /** A follower relays a write to the leader's client endpoint: the client never needs to know who leads. */
  private forward(req: ClientRequest, leader: NodeId): void {
    const known = this.deps.clientAddress(leader) ?? '';
    const parsed = parseAddress(known);
    const target = parsed.ok ? parsed.value : undefined;
    if (target === undefined) {
      this.reply(req, {
        kind: 'error',
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
        this.reply(req, {
          kind: 'error',
          // Never reached the leader: certainly not executed. Otherwise nobody knows.
          code: err instanceof KeelError && err.code === ChannelErrorCode.NotSent ? 'not-leader' : 'timeout',
          message: `forwarding to leader ${leader} failed: ${err.message}`,
          leaderHint: leader,
        }),
    );
  }

  private reply(req: ClientRequest, res: KvResponse): void {
    let bytes: Uint8Array;
    try {
      bytes = encodeResponse(res).slice();
    } catch (err) {
      req.fail(`cannot encode the response: ${(err as Error).message}`);
      return;
    }
    req.reply(bytes);
  }

  /** Closes the connection used for forwarding. */
  async close(): Promise<void> {
    await this.forwardTo?.conn.close();
  }
}
