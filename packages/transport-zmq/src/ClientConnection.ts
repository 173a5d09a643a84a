import type { ChannelState } from '@keel/core';
import {
  CLIENT_HEADER_MAX_BYTES,
  type ClientRequestRecord,
  type CodecLimits,
  clientRecordSizeBound,
  DEFAULT_CODEC_LIMITS,
  decodeClientReplies,
  ReplyStatus,
  Writer,
  writeClientRequests,
} from '@keel/core/codec';
import * as zmq from 'zeromq';
import { assertCurveKey, type CurveKeyPair, keyFingerprint } from './curve.js';
import { TransportError, TransportErrorCode } from './errors.js';
import { RateLimitedLog, silentLogger, type TransportLogger } from './logger.js';

export interface ClientConnectionOptions {
  /** The server's client endpoint, e.g. `tcp://10.0.0.5:7101`. */
  readonly address: string;
  /** Default time a request may wait for its reply. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Requests in flight (sent or queued) before `request` fails fast. Default 65536. */
  readonly maxInFlight?: number;
  readonly limits?: Partial<CodecLimits>;
  /** CURVE: the server's public key and this client's key pair (its public key must be allowed). */
  readonly curve?: CurveKeyPair & { readonly serverPublicKey: string };
  readonly logger?: TransportLogger;
  readonly reconnectIntervalMs?: number;
  /** ZMTP heartbeat: how often an idle connection is probed. Default 250 ms. */
  readonly heartbeatIntervalMs?: number;
  /** ZMTP heartbeat: silence after which the connection is declared lost. Default 1000 ms. */
  readonly heartbeatTimeoutMs?: number;
}

/**
 * After a disconnect, how long replies already received may still be read before the requests
 * sent on the lost connection are failed: the monitor event and the data travel separately.
 */
const DISCONNECT_GRACE_MS = 50;

/**
 * A reply with this id (no request has it: ids start at 1) is the server's notice that it is
 * going away (`ClientServer.drain`): it answers what it received and closes. The connection counts
 * as down from then on, so requests go elsewhere instead of racing the close.
 */
export const GOING_AWAY_ID = 0;
/**
 * The notice's text when every request the server received before it has had its answer queued
 * ahead of it (no reply was dropped): what is still unanswered after it was not executed.
 */
export const GOING_AWAY_CLEAN = 'going away: every request received before this was answered';

interface Pending {
  resolve(payload: Uint8Array): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
  /** Handed to the socket: from then on its outcome is unknown unless a reply comes. */
  sent: boolean;
  /** When it was handed to the socket (performance.now()). */
  sentAt: number;
}

/**
 * The client side of the client protocol: a DEALER that sends requests with ids, many in one frame
 * when they queue up, and matches replies to their requests by id, in any order.
 *
 * It follows its connection through the socket monitor (handshake, disconnect, refused retries)
 * and ZMTP heartbeats, so a dead member is known within a heartbeat timeout (at once when its
 * process dies and the kernel resets the connection). Requests never wait on a connection known
 * down: a request made while down fails at once with `KEEL_CHANNEL_NOT_SENT`, and requests sent
 * on a connection that is then lost fail with `KEEL_CHANNEL_DISCONNECTED` (their replies would be
 * routed to the old connection, so they can never arrive). Frames are handed to ZeroMQ only on a
 * live connection (`immediate`), never parked in a pipe to nobody, so "not sent" is certain.
 */
export class ClientConnection {
  private readonly dealer: zmq.Dealer;
  private readonly context: zmq.Context;
  private readonly limits: CodecLimits;
  private readonly logger: TransportLogger;
  private readonly rateLimited: RateLimitedLog;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly pending = new Map<number, Pending>();
  private queue: ClientRequestRecord[] = [];
  private readonly writer = new Writer();
  private nextId = 1;
  private pumping = false;
  private closed = false;
  private connection: ChannelState = 'connecting';
  /** Why the last handshake failed (a refused or missing CURVE key), for the errors of requests meanwhile. */
  private refusal: string | null = null;
  /**
   * The server's clean going-away notice arrived on this connection: a request still unanswered
   * when it closes reached it after the notice (or never), and was refused or never read.
   */
  private farewell = false;
  /** Wakes the pump when the connection comes up. */
  private wake: (() => void) | null = null;
  private readonly receiving: Promise<void>;

  constructor(options: ClientConnectionOptions) {
    this.limits = { ...DEFAULT_CODEC_LIMITS, ...options.limits };
    this.logger = options.logger ?? silentLogger;
    this.rateLimited = new RateLimitedLog(this.logger);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxInFlight = options.maxInFlight ?? 65_536;
    const curve = options.curve;
    if (curve !== undefined) {
      assertCurveKey(curve.publicKey, 'curve.publicKey');
      assertCurveKey(curve.secretKey, 'curve.secretKey');
      assertCurveKey(curve.serverPublicKey, 'curve.serverPublicKey');
    }
    this.context = new zmq.Context({ blocky: false });
    this.dealer = new zmq.Dealer({
      context: this.context,
      // IPv6 literals ([::1]) as well as IPv4: without it ZeroMQ refuses them ("No such device").
      ipv6: true,
      linger: 0,
      immediate: true,
      reconnectInterval: options.reconnectIntervalMs ?? 100,
      reconnectMaxInterval: 1000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 250,
      heartbeatTimeout: options.heartbeatTimeoutMs ?? 1000,
      maxMessageSize: this.limits.maxFrameBytes,
      ...(curve === undefined
        ? {}
        : {
            curveServerKey: curve.serverPublicKey,
            curvePublicKey: curve.publicKey,
            curveSecretKey: curve.secretKey,
          }),
    });
    const ours = curve === undefined ? null : keyFingerprint(curve.publicKey);
    this.dealer.events.on('handshake:error:auth', (e) => {
      this.refusal = `the member refused our CURVE key ${ours}: it is not among its client keys`;
      this.rateLimited.warn('auth', { status: e.error.status, key: ours }, this.refusal);
    });
    this.dealer.events.on('handshake:error:protocol', (e) => {
      this.refusal =
        curve === undefined
          ? `the handshake failed (${e.error.code}): does the member require CURVE? give this client a key`
          : `the CURVE handshake failed (${e.error.code}): is the member's public key right?`;
      this.rateLimited.warn('protocol', { code: e.error.code }, this.refusal);
    });
    this.watch();
    this.dealer.connect(options.address);
    this.receiving = this.receiveLoop();
  }

  /** The connection as last reported by the socket monitor. */
  state(): ChannelState {
    return this.connection;
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends `payload`; resolves with the reply payload, rejects with a TransportError. */
  request(payload: Uint8Array, options: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    if (this.closed)
      return Promise.reject(new TransportError(TransportErrorCode.Closed, 'connection closed'));
    if (this.connection === 'down') {
      return Promise.reject(
        new TransportError(
          TransportErrorCode.NotSent,
          `not sent: ${this.refusal ?? 'the connection to the member is down'}`,
        ),
      );
    }
    if (this.pending.size >= this.maxInFlight) {
      return Promise.reject(new TransportError(TransportErrorCode.Overloaded, 'too many requests in flight'));
    }
    if (clientRecordSizeBound(payload) > this.limits.maxFrameBytes - CLIENT_HEADER_MAX_BYTES) {
      return Promise.reject(
        new TransportError(TransportErrorCode.InvalidConfig, 'request larger than a frame'),
      );
    }
    const id = this.nextId;
    this.nextId = id >= Number.MAX_SAFE_INTEGER ? 1 : id + 1;
    return new Promise<Uint8Array>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.timeoutMs;
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) {
          reject(new TransportError(TransportErrorCode.Timeout, `no reply within ${timeoutMs} ms`));
        }
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, sent: false, sentAt: 0 });
      this.queue.push({ id, payload });
      if (!this.pumping) {
        this.pumping = true;
        queueMicrotask(() => void this.pump());
      }
    });
  }

  private async pump(): Promise<void> {
    try {
      while (!this.closed && this.queue.length > 0) {
        if (this.connection !== 'up') {
          // Held here, not in ZeroMQ, so that a refused connection can fail them as not sent.
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          continue;
        }
        let budget = this.limits.maxFrameBytes - CLIENT_HEADER_MAX_BYTES;
        let n = 0;
        while (n < this.queue.length && n < this.limits.maxMessagesPerFrame) {
          const size = clientRecordSizeBound(this.queue[n]!.payload);
          if (size > budget) break;
          budget -= size;
          n++;
        }
        const batch = n === this.queue.length ? this.queue : this.queue.slice(0, n);
        this.queue = n === this.queue.length ? [] : this.queue.slice(n);
        // Requests whose caller already timed out are not worth sending.
        const live = batch.filter((r) => this.pending.has(r.id));
        if (live.length === 0) continue;
        for (const r of live) {
          const p = this.pending.get(r.id);
          if (p !== undefined) {
            p.sent = true;
            p.sentAt = performance.now();
          }
        }
        try {
          await this.dealer.send(writeClientRequests(this.writer, live, this.limits));
        } catch (err) {
          if (this.closed) break;
          // A failed send wrote nothing: these requests certainly did not leave.
          for (const r of live)
            this.settle(r.id, new TransportError(TransportErrorCode.NotSent, 'send failed', { cause: err }));
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private watch(): void {
    const events = this.dealer.events;
    // 'handshake' (not 'connect'): the connection carries requests only once ZMTP (and CURVE) agree.
    events.on('handshake', () => {
      if (this.closed) return;
      this.refusal = null;
      this.connection = 'up';
      this.farewell = false;
      this.wake?.();
      this.wake = null;
    });
    events.on('disconnect', () => this.lost('the connection to the member was lost'));
    // A retry without a handshake since: the member refuses connections (down or not started).
    events.on('connect:retry', () => {
      if (this.connection !== 'up') this.lost('the member refuses connections');
    });
  }

  /** The server is closing: nothing more is sent to it; what it received, it answers. */
  private goingAway(clean: boolean): void {
    if (this.closed) return;
    this.connection = 'down';
    this.farewell = clean;
    const unsent = this.queue;
    this.queue = [];
    for (const r of unsent)
      this.settle(r.id, new TransportError(TransportErrorCode.NotSent, 'not sent: the member is stopping'));
  }

  /** The connection is down: fail what waits for it, after a short grace for replies in transit. */
  private lost(why: string): void {
    if (this.closed) return;
    this.connection = 'down';
    const unsent = this.queue;
    this.queue = [];
    for (const r of unsent)
      this.settle(r.id, new TransportError(TransportErrorCode.NotSent, `not sent: ${this.refusal ?? why}`));
    const lostAt = performance.now();
    const sent = [...this.pending].filter(([, p]) => p.sent).map(([id, p]) => [id, p.sentAt] as const);
    if (sent.length === 0) return;
    const fail = (): void => {
      // Read now, not at the disconnect: the notice may still have been in transit then.
      const farewell = this.farewell;
      for (const [id, sentAt] of sent) {
        const ago = Math.round(lostAt - sentAt);
        this.settle(
          id,
          farewell
            ? new TransportError(
                TransportErrorCode.NotSent,
                `not executed: the member stopped after its going-away notice, which answered everything it had received`,
              )
            : new TransportError(
                TransportErrorCode.Disconnected,
                `sent ${ago} ms before ${why}: the outcome is unknown`,
              ),
        );
      }
    };
    // The timer fires before the event loop's poll phase, where replies waiting in the socket are
    // read; after a stall (a busy machine) they would lose the race: fail only after a poll phase.
    setTimeout(() => setImmediate(fail), DISCONNECT_GRACE_MS);
  }

  private settle(id: number, result: Uint8Array | Error): void {
    const p = this.pending.get(id);
    if (p === undefined) return; // timed out already, or a duplicate
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (result instanceof Error) p.reject(result);
    else p.resolve(result);
  }

  private async receiveLoop(): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const frames of this.dealer) {
        const frame = frames[0];
        if (frames.length !== 1 || frame === undefined) continue;
        let replies: ReturnType<typeof decodeClientReplies>;
        try {
          replies = decodeClientReplies(
            new Uint8Array(frame.buffer, frame.byteOffset, frame.length),
            this.limits,
          );
        } catch (err) {
          this.rateLimited.warn('decode', { err: (err as Error).message }, 'reply frame rejected');
          continue;
        }
        for (const r of replies) {
          if (r.id === GOING_AWAY_ID) {
            this.goingAway(decoder.decode(r.payload) === GOING_AWAY_CLEAN);
            continue;
          }
          this.settle(
            r.id,
            r.status === ReplyStatus.Ok
              ? r.payload
              : new TransportError(TransportErrorCode.Remote, decoder.decode(r.payload)),
          );
        }
      }
    } catch (err) {
      if (!this.closed) this.logger.error({ err }, 'client receive loop failed');
    }
  }

  /** Closes the connection; every request still in flight is rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.wake?.();
    this.wake = null;
    this.dealer.close();
    for (const id of [...this.pending.keys()]) {
      this.settle(id, new TransportError(TransportErrorCode.Closed, 'connection closed'));
    }
    await this.receiving;
  }
}
