import { ClientConnection, TransportError, TransportErrorCode } from '@keel/transport-zmq';
import type { Propose } from './client.js';
import { decodeCommand } from './codec.js';
import { OutcomeUnknownError, UnavailableError } from './errors.js';
import type { QueueView } from './JobQueue.js';
import { commandRequest, decodeReply, type JobQueueReply, viewRequest } from './service.js';

/** A member's client port. */
export interface ClientAddress {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

export interface RemoteJobQueueOptions {
  /** How long one call may keep retrying while no leader takes it (ms); default 10 000. */
  readonly deadlineMs?: number;
  /** How long one request may wait for its reply (ms); default 3000. */
  readonly requestTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The job queue over the network: one connection per member's client port, and a `propose` for
 * `JobQueueClient` that follows the members' leader hints. Any member takes a write (followers
 * forward it to the leader); a `not-leader` answer names the leader to try next, or no one while an
 * election runs (then the next member is tried after a pause).
 *
 * `propose` rejects with `OutcomeUnknownError` when the command may have been applied (the request
 * was sent and no answer came, or the member stopped meanwhile) and with `UnavailableError` when it
 * certainly was not and the deadline passed. It never resends a command whose outcome is unknown:
 * that is the caller's decision (the job queue is at-least-once; a resent enqueue is a second job).
 */
export class RemoteJobQueue {
  readonly #members: readonly ClientAddress[];
  readonly #connections = new Map<string, ClientConnection>();
  readonly #deadlineMs: number;
  readonly #timeoutMs: number;
  /** The member tried first: the leader last heard of. */
  #to: string;

  constructor(members: readonly ClientAddress[], options: RemoteJobQueueOptions = {}) {
    if (members.length === 0) throw new Error('RemoteJobQueue needs at least one member');
    this.#members = members;
    this.#to = members[0]!.id;
    this.#deadlineMs = options.deadlineMs ?? 10_000;
    this.#timeoutMs = options.requestTimeoutMs ?? 3000;
  }

  /** Gets one command committed; see the class comment for how it fails. */
  readonly propose: Propose = async (command) => {
    const kind = decodeCommand(command).kind;
    const deadline = performance.now() + this.#deadlineMs;
    const payload = commandRequest(command);
    for (;;) {
      const to = this.#to;
      let reply: JobQueueReply;
      try {
        reply = await this.send(to, payload);
      } catch (err) {
        this.#next(to);
        if (!(err instanceof TransportError) || err.code !== TransportErrorCode.NotSent)
          throw new OutcomeUnknownError(`${kind} to ${to}: ${(err as Error).message}`);
        if (performance.now() > deadline) throw new UnavailableError(`${kind}: no member reachable`);
        await sleep(50);
        continue;
      }
      if (reply.kind === 'result') return reply.result;
      if (reply.kind !== 'error') throw new Error(`${kind}: a view came back for a command`);
      const e = reply.error;
      if (e.code === 'timeout' || e.code === 'stopped') {
        this.#next(to, e.leaderHint);
        throw new OutcomeUnknownError(`${kind} at ${to}: ${e.code}: ${e.message}`);
      }
      if (e.code !== 'not-leader' && e.code !== 'proposal-dropped' && e.code !== 'busy')
        throw new Error(`${kind} at ${to}: ${e.code}: ${e.message}`);
      // Certainly not applied: retry, where the hint says or at the next member.
      if (performance.now() > deadline) throw new UnavailableError(`${kind}: ${e.code} until the deadline`);
      this.#next(to, e.leaderHint);
      if (e.leaderHint === null || e.leaderHint === to) await sleep(50);
    }
  };

  /** One member's view: `linearizable` only on the leader (else a `not-leader` error), `stale` anywhere. */
  async view(member: string, consistency: 'linearizable' | 'stale'): Promise<QueueView> {
    const reply = await this.send(member, viewRequest(consistency));
    if (reply.kind === 'view') return reply.view;
    if (reply.kind === 'error')
      throw new Error(`view at ${member}: ${reply.error.code}: ${reply.error.message}`);
    throw new Error(`view at ${member}: a command result came back`);
  }

  /** One request to one member, its reply decoded. */
  async send(member: string, payload: Uint8Array): Promise<JobQueueReply> {
    return decodeReply(await this.#connection(member).request(payload, { timeoutMs: this.#timeoutMs }));
  }

  async close(): Promise<void> {
    const all = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all(all.map((c) => c.close()));
  }

  #connection(id: string): ClientConnection {
    let c = this.#connections.get(id);
    if (c === undefined) {
      const m = this.#members.find((x) => x.id === id);
      if (m === undefined) throw new Error(`unknown member ${id}`);
      c = new ClientConnection({ address: `tcp://${m.host}:${m.port}`, timeoutMs: this.#timeoutMs });
      this.#connections.set(id, c);
    }
    return c;
  }

  /** Where to send next: the hint when there is one (and we know it), else the member after `from`. */
  #next(from: string, hint: string | null = null): void {
    if (hint !== null && hint !== from && this.#members.some((m) => m.id === hint)) {
      this.#to = hint;
      return;
    }
    const i = this.#members.findIndex((m) => m.id === from);
    this.#to = this.#members[(i + 1) % this.#members.length]!.id;
  }
}
