import {
  CLIENT_HEADER_MAX_BYTES,
  type ClientReplyRecord,
  type CodecLimits,
  clientRecordSizeBound,
  DEFAULT_CODEC_LIMITS,
  DecodeError,
  DecodeErrorReason,
  decodeClientRequests,
  ReplyStatus,
  Writer,
  writeClientReplies,
} from '@keel/core/codec';
import * as zmq from 'zeromq';
import { GOING_AWAY_CLEAN, GOING_AWAY_ID } from './ClientConnection.js';
import { assertCurveKey, type CurveKeyPair, keyFingerprint, ZapHandler } from './curve.js';
import { TransportError, TransportErrorCode } from './errors.js';
import { OncePerKeyLog, RateLimitedLog, silentLogger, type TransportLogger } from './logger.js';

/** The ZAP domain of the client endpoint: only client keys are allowed on it. */
export const CLIENT_ZAP_DOMAIN = 'keel-client';

export interface ClientServerCurveOptions extends CurveKeyPair {
  /** Public keys of the clients admitted. */
  readonly clientKeys: readonly string[];
}

export interface ClientServerOptions {
  /** Where the client ROUTER listens, e.g. `tcp://0.0.0.0:7101`. */
  readonly bind: string;
  readonly limits?: Partial<CodecLimits>;
  /** Replies waiting to be sent, over all clients, before new ones are dropped. Default 65536. */
  readonly maxPendingReplies?: number;
  readonly curve?: ClientServerCurveOptions;
  readonly logger?: TransportLogger;
  /** Without `curve`, warn at `listen` that traffic is unauthenticated. Default true (false: the caller warns). */
  readonly warnUnauthenticated?: boolean;
}

/** One request from one client; answer it exactly once with `reply` or `fail`. */
export interface ClientRequest {
  /** The connection it came from (opaque, stable while the connection lasts). */
  readonly client: string;
  readonly id: number;
  /** A view into the received frame: copy it to keep it beyond the handler. */
  readonly payload: Uint8Array;
  reply(payload: Uint8Array): void;
  fail(message: string): void;
}

export interface ClientServerMetrics {
  readonly requests: number;
  readonly replies: number;
  readonly framesReceived: number;
  readonly framesSent: number;
  /** Replies dropped because too many were pending, or the server closed. */
  readonly droppedReplies: number;
  readonly decodeErrors: Readonly<Record<DecodeErrorReason, number>>;
  readonly authFailures: number;
}

interface Outbox {
  readonly route: Buffer;
  replies: ClientReplyRecord[];
}

const textEncoder = new TextEncoder();
/** Client connections remembered for the going-away notice. */
const MAX_ROUTES = 65_536;
/** `drain` closes once no request arrived for this long (or its bound is reached). */
const DRAIN_QUIET_MS = 50;

/**
 * The client endpoint: a ROUTER receiving request frames (many requests, each with an id, per
 * frame) and routing replies back to the connection they came from, batched per client.
 */
export class ClientServer {
  private readonly limits: CodecLimits;
  private readonly logger: TransportLogger;
  private readonly rateLimited: RateLimitedLog;
  private readonly refusals: OncePerKeyLog;
  private readonly context: zmq.Context;
  private readonly router: zmq.Router;
  private readonly maxPending: number;
  /** Clients with replies waiting, in arrival order: the pump serves them round-robin. */
  private readonly outboxes = new Map<string, Outbox>();
  private readonly writer = new Writer();
  private pending = 0;
  private pumping = false;
  private handler: ((request: ClientRequest) => void) | null = null;
  private zap: ZapHandler | null = null;
  private bound: Promise<string> | null = null;
  private receiving: Promise<void> | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Callers of `drain` waiting for every queued reply to be handed to the socket. */
  private flushWaiters: (() => void)[] = [];
  /** When the last request frame arrived (performance.now()). */
  private lastReceived = 0;
  /** Connections that sent requests, most recent last (bounded): told when the server goes away. */
  private readonly routes = new Map<string, Buffer>();
  private readonly counters = {
    requests: 0,
    replies: 0,
    framesReceived: 0,
    framesSent: 0,
    droppedReplies: 0,
    authFailures: 0,
  };
  private readonly decodeErrors = Object.fromEntries(
    Object.values(DecodeErrorReason).map((r) => [r, 0]),
  ) as Record<DecodeErrorReason, number>;

  constructor(private readonly options: ClientServerOptions) {
    this.limits = { ...DEFAULT_CODEC_LIMITS, ...options.limits };
    this.logger = options.logger ?? silentLogger;
    this.rateLimited = new RateLimitedLog(this.logger);
    this.refusals = new OncePerKeyLog(this.logger);
    this.maxPending = options.maxPendingReplies ?? 65_536;
    const curve = options.curve;
    if (curve !== undefined) {
      assertCurveKey(curve.publicKey, 'curve.publicKey');
      assertCurveKey(curve.secretKey, 'curve.secretKey');
      curve.clientKeys.forEach((k, i) => {
        assertCurveKey(k, `curve.clientKeys[${i}]`);
      });
    }
    this.context = new zmq.Context({ blocky: false });
    this.router = new zmq.Router({
      context: this.context,
      // IPv6 literals ([::1]) as well as IPv4: without it ZeroMQ refuses them ("No such device").
      ipv6: true,
      linger: 0,
      maxMessageSize: this.limits.maxFrameBytes,
      ...(curve === undefined
        ? {}
        : {
            curveServer: true,
            curvePublicKey: curve.publicKey,
            curveSecretKey: curve.secretKey,
            zapDomain: CLIENT_ZAP_DOMAIN,
          }),
    });
  }

  get endpoint(): string | null {
    return this.router.lastEndpoint;
  }

  /** Binds the client ROUTER (idempotent) and returns the bound endpoint. */
  listen(): Promise<string> {
    this.bound ??= (async () => {
      const curve = this.options.curve;
      if (curve !== undefined) {
        this.zap = await ZapHandler.start(
          this.context,
          new Map([[CLIENT_ZAP_DOMAIN, new Set(curve.clientKeys)]]),
          this.logger,
          (_domain, address, key) => {
            this.counters.authFailures++;
            const fingerprint = key === null ? 'none (not CURVE)' : keyFingerprint(key);
            this.refusals.warn(
              key ?? address,
              { address, key: fingerprint },
              `client connection from ${address} refused: key ${fingerprint} is not an allowed client key`,
            );
          },
        );
      } else if (this.options.warnUnauthenticated !== false) {
        this.logger.warn(
          { bind: this.options.bind },
          'client endpoint without CURVE keys: traffic is unauthenticated and unencrypted',
        );
      }
      await this.router.bind(this.options.bind);
      return this.router.lastEndpoint ?? this.options.bind;
    })();
    return this.bound;
  }

  /** Starts serving; `handler` gets every request and must answer each one once. */
  async start(handler: (request: ClientRequest) => void): Promise<void> {
    if (this.handler !== null) throw new TransportError(TransportErrorCode.InvalidConfig, 'started twice');
    this.handler = handler;
    await this.listen();
    this.receiving = this.receiveLoop();
  }

  get metrics(): ClientServerMetrics {
    return { ...this.counters, decodeErrors: { ...this.decodeErrors } };
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.router) this.onFrames(frames);
    } catch (err) {
      if (!this.closed) this.logger.error({ err }, 'client receive loop failed');
    }
  }

  private onFrames(frames: Buffer[]): void {
    const route = frames[0]!;
    const client = route.toString('latin1');
    if (frames.length !== 2) {
      this.decodeErrors[DecodeErrorReason.Malformed]++;
      this.rateLimited.warn('decode', { parts: frames.length - 1 }, 'client frame rejected');
      return;
    }
    const payload = frames[1]!;
    let records: ReturnType<typeof decodeClientRequests>;
    try {
      records = decodeClientRequests(
        new Uint8Array(payload.buffer, payload.byteOffset, payload.length),
        this.limits,
      );
    } catch (err) {
      const reason = err instanceof DecodeError ? err.reason : DecodeErrorReason.Malformed;
      this.decodeErrors[reason]++;
      this.rateLimited.warn('decode', { reason, err: (err as Error).message }, 'client frame rejected');
      return;
    }
    this.counters.framesReceived++;
    this.lastReceived = performance.now();
    this.routes.delete(client);
    this.routes.set(client, route);
    if (this.routes.size > MAX_ROUTES) this.routes.delete(this.routes.keys().next().value as string);
    const handler = this.handler!;
    for (const record of records) {
      this.counters.requests++;
      let answered = false;
      const answer = (status: ReplyStatus, body: Uint8Array): void => {
        if (answered) return;
        answered = true;
        this.enqueue(client, route, { id: record.id, status, payload: body });
      };
      const request: ClientRequest = {
        client,
        id: record.id,
        payload: record.payload,
        reply: (body) => answer(ReplyStatus.Ok, body),
        fail: (message) => answer(ReplyStatus.Error, textEncoder.encode(message)),
      };
      try {
        handler(request);
      } catch (err) {
        this.logger.error({ err, requestId: record.id }, 'client request handler threw');
        request.fail('internal error');
      }
    }
  }

  private enqueue(client: string, route: Buffer, reply: ClientReplyRecord): void {
    const bound = clientRecordSizeBound(reply.payload);
    if (
      this.closed ||
      this.pending >= this.maxPending ||
      bound > this.limits.maxFrameBytes - CLIENT_HEADER_MAX_BYTES
    ) {
      this.counters.droppedReplies++;
      this.rateLimited.warn('reply-dropped', { pending: this.pending, bytes: bound }, 'client reply dropped');
      return;
    }
    let box = this.outboxes.get(client);
    if (box === undefined) {
      box = { route, replies: [] };
      this.outboxes.set(client, box);
    }
    box.replies.push(reply);
    this.pending++;
    if (!this.pumping) {
      this.pumping = true;
      queueMicrotask(() => void this.pump());
    }
  }

  private async pump(): Promise<void> {
    try {
      while (!this.closed && this.outboxes.size > 0) {
        const [client, box] = this.outboxes.entries().next().value as [string, Outbox];
        this.outboxes.delete(client);
        // Take what fits in one frame; the rest goes to the back of the round-robin.
        let budget = this.limits.maxFrameBytes - CLIENT_HEADER_MAX_BYTES;
        let n = 0;
        while (n < box.replies.length && n < this.limits.maxMessagesPerFrame) {
          const size = clientRecordSizeBound(box.replies[n]!.payload);
          if (size > budget) break;
          budget -= size;
          n++;
        }
        const batch = n === box.replies.length ? box.replies : box.replies.slice(0, n);
        if (n < box.replies.length) {
          box.replies = box.replies.slice(n);
          this.outboxes.set(client, box);
        }
        this.pending -= batch.length;
        try {
          const frame = writeClientReplies(this.writer, batch, this.limits);
          await this.router.send([box.route, frame]);
          this.counters.replies += batch.length;
          this.counters.framesSent++;
        } catch (err) {
          this.counters.droppedReplies += batch.length;
          if (!this.closed) this.rateLimited.warn('send', { err }, 'client reply frame dropped');
        }
      }
    } finally {
      this.pumping = false;
      if (this.outboxes.size === 0) for (const w of this.flushWaiters.splice(0)) w();
    }
  }

  /**
   * Graceful close: tells every client it is going away, waits until every reply given so far
   * (and any given meanwhile) is handed to the socket and clients have gone quiet, keeps the
   * socket open long enough for ZeroMQ to write them out, then closes; all of it bounded by `ms`,
   * after which what is left is dropped as `close()` drops it.
   *
   * Contract: call it once every request received has been answered and the handler executes
   * nothing new (it refuses what still arrives). Clients rely on it: a request of theirs left
   * unanswered on a connection that carried the notice was certainly not executed.
   */
  async drain(ms: number): Promise<void> {
    if (this.closed) return this.close();
    const t0 = performance.now();
    const deadline = t0 + ms;
    const requestsBefore = this.counters.requests;
    // Tell every client first, so none sends here again (see GOING_AWAY_ID); what they sent
    // before they heard is still answered below.
    // "Clean": every request received so far has had its answer queued ahead of the notice.
    const goodbye = textEncoder.encode(this.counters.droppedReplies === 0 ? GOING_AWAY_CLEAN : 'going away');
    for (const [client, route] of this.routes) {
      this.enqueue(client, route, { id: GOING_AWAY_ID, status: ReplyStatus.Error, payload: goodbye });
    }
    // A request may cross the notice on the wire: quiet counts from now.
    this.lastReceived = performance.now();
    for (;;) {
      // Replies given in this turn are enqueued but the pump starts on a microtask: let it start.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.pumping || this.outboxes.size > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          this.flushWaiters.push(resolve);
          timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
        });
        clearTimeout(timer);
      }
      // A request received but not yet read would be lost with the socket (its client left not
      // knowing whether it ran): close only once clients, answered and redirected, went quiet.
      const quietFor = performance.now() - this.lastReceived;
      if (quietFor >= DRAIN_QUIET_MS || performance.now() >= deadline) break;
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(DRAIN_QUIET_MS - quietFor, Math.max(0, deadline - performance.now()))),
      );
    }
    this.logger.info(
      {
        ms: Math.round(performance.now() - t0),
        requests: this.counters.requests - requestsBefore,
        unsent: this.pending,
        quiet: performance.now() < deadline,
      },
      'client endpoint drained',
    );
    // Handed to ZeroMQ is not yet on the wire: linger lets its I/O thread write them out in the
    // background (close does not wait for it), up to the same bound.
    this.router.linger = Math.max(1, Math.round(ms));
    return this.close();
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.counters.droppedReplies += this.pending;
      this.pending = 0;
      this.outboxes.clear();
      for (const w of this.flushWaiters.splice(0)) w();
      this.router.close();
      await this.receiving;
      await this.zap?.close();
    })();
    return this.closing;
  }
}
