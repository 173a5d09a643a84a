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
} from '@keel/core';
import * as zmq from 'zeromq';
import { assertCurveKey, type CurveKeyPair } from './curve.js';
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
}

interface Pending {
  resolve(payload: Uint8Array): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The client side of the client protocol: a DEALER that sends requests with ids, many in one frame
 * when they queue up, and matches replies to their requests by id, in any order.
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
      linger: 0,
      reconnectInterval: options.reconnectIntervalMs ?? 100,
      maxMessageSize: this.limits.maxFrameBytes,
      ...(curve === undefined
        ? {}
        : {
            curveServerKey: curve.serverPublicKey,
            curvePublicKey: curve.publicKey,
            curveSecretKey: curve.secretKey,
          }),
    });
    this.dealer.events.on('handshake:error:auth', (e) =>
      this.rateLimited.warn('auth', { status: e.error.status }, 'server refused our CURVE key'),
    );
    this.dealer.connect(options.address);
    this.receiving = this.receiveLoop();
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends `payload`; resolves with the reply payload, rejects with a TransportError. */
  request(payload: Uint8Array, options: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    if (this.closed)
      return Promise.reject(new TransportError(TransportErrorCode.Closed, 'connection closed'));
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
      this.pending.set(id, { resolve, reject, timer });
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
        try {
          await this.dealer.send(writeClientRequests(this.writer, live, this.limits));
        } catch (err) {
          if (this.closed) break;
          for (const r of live)
            this.settle(r.id, new TransportError(TransportErrorCode.Closed, 'send failed', { cause: err }));
        }
      }
    } finally {
      this.pumping = false;
    }
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
    this.dealer.close();
    for (const id of [...this.pending.keys()]) {
      this.settle(id, new TransportError(TransportErrorCode.Closed, 'connection closed'));
    }
    await this.receiving;
  }
}
