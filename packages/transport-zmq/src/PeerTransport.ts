import {
  InvalidMemberIdError,
  isValidMemberId,
  type Message,
  type NodeId,
  PeerEvent,
  type Transport,
  type TransportHandlers,
} from '@keel/core';
import {
  BATCH_HEADER_MAX_BYTES,
  type CodecLimits,
  DEFAULT_CODEC_LIMITS,
  DecodeError,
  DecodeErrorReason,
  decodeBatch,
  messageSizeBound,
  Writer,
  writeBatch,
} from '@keel/core/codec';
import * as zmq from 'zeromq';
import { assertCurveKey, type CurveKeyPair, keyFingerprint, ZapHandler } from './curve.js';
import { TransportError, TransportErrorCode } from './errors.js';
import { OncePerKeyLog, RateLimitedLog, silentLogger, type TransportLogger } from './logger.js';
import { DropReason, PeerQueue } from './PeerQueue.js';

/** The ZAP domain of the peer endpoint: only member keys are allowed on it. */
export const PEER_ZAP_DOMAIN = 'keel-peer';

export interface PeerCurveOptions extends CurveKeyPair {
  /** Each other member's public key: the server key to connect to it, and admitted on our endpoint. */
  readonly peerKeys: ReadonlyMap<NodeId, string>;
}

export interface PeerTransportOptions {
  /** This member's id; it is also the routing id of every DEALER this member connects. */
  readonly id: NodeId;
  /** Where the peer ROUTER listens, e.g. `tcp://0.0.0.0:7001` (port 0 picks an ephemeral port). */
  readonly bind: string;
  /** The other members: id to advertised address (`tcp://host:port`). More with `addPeer`. */
  readonly peers?: ReadonlyMap<NodeId, string>;
  /** AppendEntries queued per peer before new ones are dropped. Default 4096. */
  readonly maxQueueMessages?: number;
  /** Bytes of AppendEntries queued per peer before new ones are dropped. Default 64 MiB. */
  readonly maxQueueBytes?: number;
  /** Control messages (heartbeats, votes, responses) queued per peer. Default 1024. */
  readonly maxControlMessages?: number;
  /** Frame limits for both directions; `maxFrameBytes` also caps what ZeroMQ accepts. */
  readonly limits?: Partial<CodecLimits>;
  /** With keys, all peer traffic is CURVE-encrypted and only members' keys are admitted. */
  readonly curve?: PeerCurveOptions;
  readonly logger?: TransportLogger;
  /** Without `curve`, warn at `listen` that traffic is unauthenticated. Default true (false: the caller warns). */
  readonly warnUnauthenticated?: boolean;
  /** ZMTP heartbeat: how often an idle connection is probed. Default 1000 ms. */
  readonly heartbeatIntervalMs?: number;
  /** ZMTP heartbeat: silence after which a connection is declared dead. Default 3000 ms. */
  readonly heartbeatTimeoutMs?: number;
  /** First reconnect delay; doubles up to `reconnectMaxIntervalMs`. Defaults 100 and 2000 ms. */
  readonly reconnectIntervalMs?: number;
  readonly reconnectMaxIntervalMs?: number;
  /** Frames ZeroMQ buffers per peer beyond our queue. Default 64. */
  readonly sendHighWaterMark?: number;
}

export interface PeerTransportMetrics {
  /** Messages handed to ZeroMQ, and the frames that carried them. */
  readonly sent: number;
  readonly framesSent: number;
  /** Messages delivered to the engine, and the frames that carried them. */
  readonly received: number;
  readonly framesReceived: number;
  readonly dropped: Readonly<Record<DropReason, number>>;
  /** Frames rejected by the decoder, per reason; none of their messages reached the engine. */
  readonly decodeErrors: Readonly<Record<DecodeErrorReason, number>>;
  /** Frames from a routing id that is not a configured member. */
  readonly unknownPeers: number;
  /**
   * Every frame from a peer that was not applied, per reason: a routing id that is no valid member
   * id, an unknown member, a foreign sender or recipient, or any decode failure (including an
   * invalid member id inside the frame). Not one of their messages reached the engine.
   */
  readonly framesRejected: Readonly<Record<PeerFrameRejectReason, number>>;
  /** Frames whose header names another sender than the connection, or another recipient. */
  readonly misaddressed: number;
  /** Connections refused by the ZAP handler (unknown CURVE key). */
  readonly authFailures: number;
  /**
   * CURVE handshakes that failed before any key check, in either direction: we dialed a member
   * with a public key that is not its own, or a member dialed us with a wrong key for us.
   */
  readonly handshakeFailures: number;
  /** Messages waiting in peer queues now. */
  readonly queued: number;
  /**
   * Per peer (every member ever configured): frame bytes handed to ZeroMQ for it, and the bytes
   * of its frames that were applied (cumulative).
   */
  readonly peerBytes: ReadonlyMap<NodeId, PeerByteCounts>;
}

export interface PeerByteCounts {
  readonly sent: number;
  readonly received: number;
}

type PeerState = 'unknown' | 'connected' | 'disconnected';

/** Why a peer frame was not applied (`metrics.framesRejected`). */
export const PeerFrameRejectReason = {
  /** The ZeroMQ routing id (the sender's claimed member id) is no valid member id. */
  InvalidRoutingId: 'invalid-routing-id',
  /** A valid id, but not a configured member. */
  UnknownPeer: 'unknown-peer',
  /** The frame's header names another sender than the connection, or another recipient. */
  Misaddressed: 'misaddressed',
  /** This member is isolated from its peers on purpose (fault injection, `isolate(true)`). */
  Isolated: 'isolated',
  ...DecodeErrorReason,
} as const;
export type PeerFrameRejectReason = (typeof PeerFrameRejectReason)[keyof typeof PeerFrameRejectReason];

interface Peer {
  readonly id: NodeId;
  readonly address: string;
  /** Fingerprint of the public key we hold for it (CURVE only). */
  readonly keyFingerprint: string | null;
  readonly dealer: zmq.Dealer;
  readonly queue: PeerQueue;
  pumping: boolean;
  state: PeerState;
  removed: boolean;
}

function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

/**
 * Raft messages between members over ZeroMQ. One ROUTER receives from every peer; one DEALER per
 * peer (routing id = our id) sends to it. Sending never blocks: messages wait in a bounded
 * per-peer queue (see PeerQueue) that a pump drains, packing whatever has queued into one frame
 * per ZeroMQ send, since zeromq.js allows one pending send per socket.
 */
export class PeerTransport implements Transport {
  readonly id: NodeId;
  private readonly options: PeerTransportOptions;
  private readonly limits: CodecLimits;
  private readonly frameBudget: number;
  private readonly logger: TransportLogger;
  private readonly rateLimited: RateLimitedLog;
  private readonly refusals: OncePerKeyLog;
  private readonly context: zmq.Context;
  private readonly router: zmq.Router;
  private readonly peers = new Map<NodeId, Peer>();
  private readonly allowedPeerKeys = new Set<string>();
  private readonly writer = new Writer();
  private handlers: TransportHandlers | null = null;
  private zap: ZapHandler | null = null;
  private bound: Promise<string> | null = null;
  private receiving: Promise<void> | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;

  private readonly counters = {
    sent: 0,
    framesSent: 0,
    received: 0,
    framesReceived: 0,
    unknownPeers: 0,
    misaddressed: 0,
    authFailures: 0,
    handshakeFailures: 0,
  };
  private readonly dropped = zeroCounts(Object.values(DropReason));
  private isolatedNow = false;
  private readonly decodeErrors = zeroCounts(Object.values(DecodeErrorReason));
  private readonly framesRejected = zeroCounts(Object.values(PeerFrameRejectReason));
  private readonly bytes = new Map<NodeId, { sent: number; received: number }>();

  constructor(options: PeerTransportOptions) {
    if (!isValidMemberId(options.id)) {
      throw new TransportError(
        TransportErrorCode.InvalidConfig,
        new InvalidMemberIdError(options.id).message,
      );
    }
    this.id = options.id;
    this.options = options;
    this.limits = { ...DEFAULT_CODEC_LIMITS, ...options.limits };
    this.frameBudget = this.limits.maxFrameBytes - BATCH_HEADER_MAX_BYTES;
    this.logger = options.logger ?? silentLogger;
    this.rateLimited = new RateLimitedLog(this.logger);
    this.refusals = new OncePerKeyLog(this.logger);
    const curve = options.curve;
    if (curve !== undefined) {
      assertCurveKey(curve.publicKey, 'curve.publicKey');
      assertCurveKey(curve.secretKey, 'curve.secretKey');
    }
    this.context = new zmq.Context({ blocky: false });
    this.router = new zmq.Router({
      context: this.context,
      // IPv6 literals ([::1]) as well as IPv4: without it ZeroMQ refuses them ("No such device").
      ipv6: true,
      linger: 0,
      // A restarted member reconnects with the same routing id before the old connection is
      // noticed dead; without handover the ROUTER would refuse it.
      handover: true,
      maxMessageSize: this.limits.maxFrameBytes,
      ...(curve === undefined
        ? {}
        : {
            curveServer: true,
            curvePublicKey: curve.publicKey,
            curveSecretKey: curve.secretKey,
            zapDomain: PEER_ZAP_DOMAIN,
          }),
    });
    for (const [id, address] of options.peers ?? []) {
      if (id !== this.id) this.addPeer(id, address);
    }
  }

  /** The bound endpoint (`tcp://ip:port`, the real port when bound to port 0). */
  get endpoint(): string | null {
    return this.router.lastEndpoint;
  }

  /** Binds the peer ROUTER (idempotent) and returns the bound endpoint. */
  listen(): Promise<string> {
    this.bound ??= (async () => {
      if (this.options.curve !== undefined) {
        this.zap = await ZapHandler.start(
          this.context,
          new Map([[PEER_ZAP_DOMAIN, this.allowedPeerKeys]]),
          this.logger,
          (_domain, address, key) => {
            this.counters.authFailures++;
            const fingerprint = key === null ? 'none (not CURVE)' : keyFingerprint(key);
            this.refusals.warn(
              `in:${key ?? address}`,
              { address, key: fingerprint },
              `peer connection from ${address} refused: key ${fingerprint} is not a member's`,
            );
          },
        );
      } else if (this.options.warnUnauthenticated !== false) {
        this.logger.warn(
          { id: this.id, bind: this.options.bind },
          'peer transport without CURVE keys: traffic is unauthenticated and unencrypted',
        );
      }
      if (this.options.curve !== undefined) this.watchIncomingHandshakes(this.options.curve.publicKey);
      await this.router.bind(this.options.bind);
      return this.router.lastEndpoint ?? this.options.bind;
    })();
    return this.bound;
  }

  async start(handlers: TransportHandlers): Promise<void> {
    if (this.handlers !== null) throw new TransportError(TransportErrorCode.InvalidConfig, 'started twice');
    this.handlers = handlers;
    const endpoint = await this.listen();
    this.receiving = this.receiveLoop();
    for (const peer of this.peers.values()) peer.dealer.connect(peer.address);
    this.logger.info({ id: this.id, endpoint, peers: [...this.peers.keys()] }, 'peer transport started');
  }

  /** Adds a member (or changes nothing if it is known). With CURVE, its key comes from options or `publicKey`. */
  addPeer(id: NodeId, address: string, publicKey?: string): void {
    if (this.closed || id === this.id || this.peers.has(id)) return;
    if (!isValidMemberId(id)) {
      throw new TransportError(TransportErrorCode.InvalidConfig, new InvalidMemberIdError(id).message);
    }
    const curve = this.options.curve;
    const peerKey = publicKey ?? curve?.peerKeys.get(id);
    if (curve !== undefined) {
      if (peerKey === undefined) {
        throw new TransportError(TransportErrorCode.InvalidConfig, `no CURVE public key for member ${id}`);
      }
      assertCurveKey(peerKey, `public key of member ${id}`);
      this.allowedPeerKeys.add(peerKey);
    }
    const o = this.options;
    const dealer = new zmq.Dealer({
      context: this.context,
      // IPv6 literals ([::1]) as well as IPv4: without it ZeroMQ refuses them ("No such device").
      ipv6: true,
      routingId: this.id,
      linger: 0,
      // Frames wait in our queue (where they batch and can be dropped), not in a pipe to nobody.
      immediate: true,
      sendHighWaterMark: o.sendHighWaterMark ?? 64,
      reconnectInterval: o.reconnectIntervalMs ?? 100,
      reconnectMaxInterval: o.reconnectMaxIntervalMs ?? 2000,
      heartbeatInterval: o.heartbeatIntervalMs ?? 1000,
      heartbeatTimeout: o.heartbeatTimeoutMs ?? 3000,
      ...(curve === undefined || peerKey === undefined
        ? {}
        : { curveServerKey: peerKey, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey }),
    });
    const peer: Peer = {
      id,
      address,
      keyFingerprint: curve === undefined || peerKey === undefined ? null : keyFingerprint(peerKey),
      dealer,
      queue: new PeerQueue({
        maxMessages: o.maxQueueMessages ?? 4096,
        maxBytes: o.maxQueueBytes ?? 64 * 1024 * 1024,
        maxControlMessages: o.maxControlMessages ?? 1024,
      }),
      pumping: false,
      state: 'unknown',
      removed: false,
    };
    this.watch(peer);
    this.peers.set(id, peer);
    if (this.handlers !== null) dealer.connect(address);
  }

  /** Forgets a member: its queue is dropped and its connection closed. */
  removePeer(id: NodeId): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    this.peers.delete(id);
    peer.removed = true;
    this.dropped[DropReason.Closed] += peer.queue.clear();
    peer.dealer.close();
  }

  /**
   * Makes the configured members exactly `peers` (id → address; this member's own id is skipped),
   * as the driver calls it when the Raft configuration changes: new members are added, members
   * that left are removed, a member whose address changed is reconnected there. An empty address
   * means "unknown here": a member already configured keeps its address, an unknown one is skipped
   * with a warning (nothing could reach it).
   */
  setPeers(peers: ReadonlyMap<NodeId, string>): void {
    if (this.closed) return;
    for (const [id, address] of peers) {
      if (id === this.id) continue;
      const known = this.peers.get(id);
      if (known === undefined) {
        if (address === '') this.logger.warn({ peer: id }, 'member has no known address: not connected');
        else if (this.options.curve !== undefined && !this.options.curve.peerKeys.has(id)) {
          // A configuration change may name a member whose key this one was never given: throwing
          // here would stop the member; the rest of the cluster still works without that link.
          this.refusals.warn(
            `nokey:${id}`,
            { peer: id, address },
            `member ${id} has no CURVE public key here: not connected (add its key to the peer keys and restart)`,
          );
        } else this.addPeer(id, address);
      } else if (address !== '' && address !== known.address) {
        this.removePeer(id);
        this.addPeer(id, address);
      }
    }
    for (const id of [...this.peers.keys()]) if (!peers.has(id)) this.removePeer(id);
  }

  /** Members currently configured. */
  peerIds(): NodeId[] {
    return [...this.peers.keys()];
  }

  /**
   * Fault injection: while isolated, every message to a peer is dropped before it is queued and
   * every frame from a peer is dropped on arrival, as if each link were cut both ways; connections
   * stay up, so healing takes effect at once. Clients are not affected.
   */
  isolate(on: boolean): void {
    if (on === this.isolatedNow) return;
    this.isolatedNow = on;
    if (on) for (const peer of this.peers.values()) this.dropped[DropReason.Isolated] += peer.queue.clear();
    this.logger.warn(
      { id: this.id, isolated: on },
      on ? 'isolated from every peer (fault injection)' : 'isolation healed',
    );
  }

  /** Whether `isolate(true)` is in force. */
  get isolated(): boolean {
    return this.isolatedNow;
  }

  send(messages: readonly Message[]): void {
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (this.closed) {
        this.dropped[DropReason.Closed]++;
        continue;
      }
      if (this.isolatedNow) {
        this.dropped[DropReason.Isolated]++;
        continue;
      }
      if (m.from !== this.id) {
        // A caller bug; refused here so that it cannot spoil the frame it would share.
        this.dropped[DropReason.SendFailed]++;
        this.rateLimited.warn('foreign', { from: m.from, to: m.to }, 'message not from this member: dropped');
        continue;
      }
      const peer = this.peers.get(m.to);
      if (peer === undefined) {
        this.dropped[DropReason.UnknownPeer]++;
        continue;
      }
      const size = messageSizeBound(m);
      if (size > this.frameBudget) {
        this.dropped[DropReason.Oversized]++;
        this.rateLimited.warn('oversized', { peer: m.to, size }, 'message larger than a frame: dropped');
        continue;
      }
      if (!peer.queue.push(m, size)) {
        this.dropped[DropReason.QueueFull]++;
        continue;
      }
      if (!peer.pumping) {
        peer.pumping = true;
        // Deferred so that every message sent in this turn of the event loop shares the frame.
        queueMicrotask(() => void this.pump(peer));
      }
    }
  }

  get metrics(): PeerTransportMetrics {
    let queued = 0;
    for (const p of this.peers.values()) queued += p.queue.length;
    return {
      ...this.counters,
      dropped: { ...this.dropped },
      decodeErrors: { ...this.decodeErrors },
      framesRejected: { ...this.framesRejected },
      queued,
      peerBytes: new Map([...this.bytes].map(([id, b]) => [id, { ...b }])),
    };
  }

  /** The connection state of each peer as last reported by ZeroMQ. */
  peerStates(): Map<NodeId, PeerState> {
    return new Map([...this.peers.values()].map((p) => [p.id, p.state]));
  }

  private async pump(peer: Peer): Promise<void> {
    const batch: Message[] = [];
    try {
      while (!this.closed && !peer.removed && peer.queue.length > 0) {
        batch.length = 0;
        peer.queue.take(this.frameBudget, this.limits.maxMessagesPerFrame, batch);
        if (batch.length === 0) break;
        let frame: Uint8Array;
        try {
          frame = writeBatch(this.writer, this.id, peer.id, batch, this.limits);
        } catch (err) {
          // A message the codec refuses (negative index, foreign `from`) is a caller bug.
          this.dropped[DropReason.SendFailed] += batch.length;
          this.logger.error({ err, peer: peer.id }, 'cannot encode messages: dropped');
          continue;
        }
        try {
          await peer.dealer.send(frame);
          this.counters.sent += batch.length;
          this.counters.framesSent++;
          this.bytesOf(peer.id).sent += frame.length;
        } catch (err) {
          if (this.closed || peer.removed) {
            this.dropped[DropReason.Closed] += batch.length;
            break;
          }
          this.dropped[DropReason.SendFailed] += batch.length;
          this.rateLimited.warn('send', { err, peer: peer.id }, 'ZeroMQ send failed: frame dropped');
        }
      }
    } finally {
      peer.pumping = false;
    }
  }

  private bytesOf(id: NodeId): { sent: number; received: number } {
    let b = this.bytes.get(id);
    if (b === undefined) {
      b = { sent: 0, received: 0 };
      this.bytes.set(id, b);
    }
    return b;
  }

  private setState(peer: Peer, state: PeerState): void {
    if (this.closed || peer.removed || peer.state === state) return;
    const previous = peer.state;
    peer.state = state;
    if (state === 'disconnected') {
      // What waits now was meant for a connection that is gone; Raft will resend what matters.
      this.dropped[DropReason.Disconnected] += peer.queue.clear();
      this.logger.info({ peer: peer.id, address: peer.address }, 'peer disconnected');
      this.notify(peer.id, PeerEvent.Disconnected);
    } else if (state === 'connected') {
      this.logger.info({ peer: peer.id, address: peer.address, previous }, 'peer connected');
      this.notify(peer.id, PeerEvent.Connected);
    }
  }

  private notify(peer: NodeId, event: PeerEvent): void {
    try {
      this.handlers?.peer(peer, event);
    } catch (err) {
      this.logger.error({ err, peer, event }, 'peer event handler threw');
    }
  }

  private watch(peer: Peer): void {
    const events = peer.dealer.events;
    // 'handshake' (not 'connect'): the connection is usable only once ZMTP, and CURVE, agree.
    events.on('handshake', () => this.setState(peer, 'connected'));
    events.on('disconnect', () => this.setState(peer, 'disconnected'));
    events.on('connect:retry', () => {
      // Still unreachable: do not let messages grow stale in the queue meanwhile.
      if (peer.state !== 'connected') this.dropped[DropReason.Disconnected] += peer.queue.clear();
    });
    events.on('handshake:error:auth', (e) => {
      const key = this.options.curve === undefined ? 'none' : keyFingerprint(this.options.curve.publicKey);
      this.refusals.warn(
        `out:${peer.id}`,
        { peer: peer.id, address: peer.address, status: e.error.status, key },
        `member ${peer.id} at ${peer.address} refused our CURVE key ${key}: is our public key in its peer keys?`,
      );
    });
    // A dialer holding a wrong public key for the member it dials sees the member hang up
    // (EPIPE) or a protocol error, retry after retry: said once per peer, naming the key held.
    const failed = (code: string): void => {
      this.counters.handshakeFailures++;
      const key = peer.keyFingerprint ?? 'none';
      this.refusals.warn(
        `handshake-out:${peer.id}`,
        { peer: peer.id, address: peer.address, code, peerKey: key },
        peer.keyFingerprint === null
          ? `member ${peer.id} at ${peer.address}: the handshake failed (${code}); does it require CURVE? give this member keys`
          : `member ${peer.id} at ${peer.address}: the CURVE handshake failed (${code}); the public key we hold for it, ${key}, is probably not its own: compare it with ${peer.id}'s .pub file`,
      );
    };
    events.on('handshake:error:protocol', (e) => failed(e.error.code ?? 'protocol error'));
    events.on('handshake:error:other', (e) => {
      if (peer.state !== 'connected') failed(e.error.code ?? 'error');
    });
  }

  /** A member dialing us with a wrong public key for us fails before ZAP: said once per endpoint. */
  private watchIncomingHandshakes(ourPublicKey: string): void {
    const ours = keyFingerprint(ourPublicKey);
    this.router.events.on('handshake:error:protocol', (e) => {
      this.counters.handshakeFailures++;
      this.refusals.warn(
        `handshake-in:${e.address}`,
        { address: e.address, code: e.error.code, key: ours },
        `a peer connection to ${e.address} failed the CURVE handshake (${e.error.code}): the dialing member does not hold our public key ${ours}; give it this member's .pub file`,
      );
    });
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.router) {
        this.onFrames(frames);
      }
    } catch (err) {
      if (!this.closed) this.logger.error({ err }, 'peer receive loop failed');
    }
  }

  private onFrames(frames: Buffer[]): void {
    if (this.isolatedNow) {
      this.framesRejected[PeerFrameRejectReason.Isolated]++;
      return;
    }
    const route = frames[0]!;
    const sender = route.toString('latin1');
    if (!isValidMemberId(sender)) {
      // Checked before any lookup: a routing id such as `__proto__` is data, never a key.
      this.framesRejected[PeerFrameRejectReason.InvalidRoutingId]++;
      this.rateLimited.warn(
        'invalid-routing-id',
        { sender: route.toString('hex') },
        'frame from a routing id that is no valid member id rejected',
      );
      return;
    }
    if (!this.peers.has(sender)) {
      this.counters.unknownPeers++;
      this.framesRejected[PeerFrameRejectReason.UnknownPeer]++;
      this.rateLimited.warn(
        'unknown-peer',
        { sender: route.toString('hex') },
        'frame from an unknown member ignored',
      );
      return;
    }
    if (frames.length !== 2) {
      this.decodeErrors[DecodeErrorReason.Malformed]++;
      this.framesRejected[DecodeErrorReason.Malformed]++;
      this.rateLimited.warn('decode', { peer: sender, parts: frames.length - 1 }, 'peer frame rejected');
      return;
    }
    const payload = frames[1]!;
    let messages: Message[];
    try {
      // A plain Uint8Array view, so entry data handed to the engine are not Buffers.
      messages = decodeBatch(new Uint8Array(payload.buffer, payload.byteOffset, payload.length), this.limits);
    } catch (err) {
      if (!(err instanceof DecodeError)) {
        // The decoder throws nothing else (the fuzz test holds it to that); stay alive regardless.
        this.decodeErrors[DecodeErrorReason.Malformed]++;
        this.framesRejected[DecodeErrorReason.Malformed]++;
        this.logger.error({ err, peer: sender }, 'peer frame broke the decoder');
        return;
      }
      this.decodeErrors[err.reason]++;
      this.framesRejected[err.reason]++;
      this.rateLimited.warn(
        'decode',
        { peer: sender, reason: err.reason, err: err.message, bytes: payload.length },
        'peer frame rejected',
      );
      return;
    }
    const first = messages[0]!;
    if (first.from !== sender || first.to !== this.id) {
      this.counters.misaddressed++;
      this.framesRejected[PeerFrameRejectReason.Misaddressed]++;
      this.rateLimited.warn(
        'misaddressed',
        { peer: sender, from: first.from, to: first.to },
        'peer frame with a foreign sender or recipient ignored',
      );
      return;
    }
    this.counters.framesReceived++;
    this.counters.received += messages.length;
    this.bytesOf(sender).received += payload.length;
    const handlers = this.handlers!;
    for (const m of messages) {
      try {
        handlers.message(m);
      } catch (err) {
        this.logger.error({ err, peer: sender, type: m.type }, 'message handler threw');
      }
    }
  }

  /** Stops sending and receiving and releases every socket; queued messages are dropped. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      for (const peer of this.peers.values()) {
        this.dropped[DropReason.Closed] += peer.queue.clear();
        peer.dealer.close();
      }
      this.router.close();
      await this.receiving;
      await this.zap?.close();
    })();
    return this.closing;
  }
}
