import {
  InvalidMemberIdError,
  isValidMemberId,
  type NodeId,
  type RequestService,
  type StateMachine,
} from '@keel/core';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Address, PeerAddress } from './addresses.js';
import { ConfigError } from './errors.js';
import type { StateGauge } from './metrics.js';

/** CURVE keys of a member: with them all peer and client traffic is encrypted and authenticated. */
export interface MemberCurve {
  /** This member's key pair (Z85), used on both its peer and its client endpoint. */
  readonly publicKey: string;
  readonly secretKey: string;
  /** Every other member's public key: the key to dial it with, and the keys admitted on the peer endpoint. */
  readonly peerKeys: ReadonlyMap<NodeId, string>;
  /** The client public keys admitted on the client endpoint. */
  readonly clientKeys: readonly string[];
}

/** A state machine that can also fingerprint its state (`/status?hash=1`); `stateHash` is optional. */
export type ServedStateMachine<Result> = StateMachine<Result> & { stateHash?(): string };

/**
 * What `startMember` needs. Only the identity, the addresses, the data dir, the state machine and
 * its request service are required; the rest has the defaults of `keel node`.
 */
export interface MemberOptions<Machine extends ServedStateMachine<Result>, Result> {
  /** This member's id (see `isValidMemberId`). */
  readonly id: NodeId;
  /** Recorded in the data dir: a member never starts on another cluster's WAL. Default 'keel'. */
  readonly clusterId?: string;
  /** Where the WAL, the snapshots and `member.json` live; created if missing, locked while open. */
  readonly dataDir: string;
  /** Every bootstrap voter's advertised peer address, this member included. */
  readonly peers: readonly PeerAddress[];
  /** Members' advertised client addresses (followers forward writes there); this member's at least, or `clientBind`. */
  readonly clients?: readonly PeerAddress[];
  /** Where to listen for peers. Default: this member's entry in `peers`. */
  readonly peerBind?: Address;
  /** Where to listen for clients. Default: this member's entry in `clients`. */
  readonly clientBind?: Address;
  /** The admin HTTP API (`/status`, `/healthz`, `/metrics`, `/members`, `POST /snapshot`); null (default): none. */
  readonly http?: Address | null;
  /**
   * CURVE keys (ZeroMQ RFC 26): peers and clients must present a listed key. Default: none, and
   * a warning at startup that traffic is unauthenticated (`insecureHint` says how to fix it).
   */
  readonly curve?: MemberCurve;
  /** With a token, every admin HTTP path but `/healthz` needs `Authorization: Bearer <token>`. */
  readonly adminToken?: string;
  /**
   * Fault injection for experiments and demos: the admin API takes `POST /isolate` (drop all peer
   * traffic both ways, as a network partition would) and `POST /heal`. Default false: a production
   * member refuses them (403).
   */
  readonly faultInjection?: boolean;
  /** Appended to the startup warning of a member without `curve` (e.g. the flag that adds keys). */
  readonly insecureHint?: string;
  /** Join a running cluster (started with no configuration, added with a membership change). */
  readonly join?: boolean;
  /** Minimum election timeout T in ms; timeouts are drawn from [T, 2T). Default 150. */
  readonly electionTimeoutMs?: number;
  /** Default 50. */
  readonly heartbeatIntervalMs?: number;
  /** The engine's tick. Default 10. */
  readonly tickMs?: number;
  /** Serve `lease` reads from the leader's lease (§6.4.1; relies on bounded clock drift). Default false. */
  readonly readLease?: boolean;
  /** Snapshot after this many applied entries (0: no entry limit). Default 10 000. */
  readonly snapshotEntries?: number;
  /** Or after this many applied bytes (0: no byte limit). Default 64 MiB. */
  readonly snapshotBytes?: number;
  /** Entries kept in the WAL behind a snapshot, for slow followers. Default 5 000. */
  readonly compactKeepEntries?: number;
  /**
   * Bytes per WAL segment file. Each member keeps its current segment and the next one
   * preallocated, so a member's WAL takes about twice this on disk. Default 64 MiB (servers: fewer
   * segment switches); 4 MiB suits a laptop cluster. Range 64 KiB to 1 GiB.
   */
  readonly walSegmentBytes?: number;
  /** The replicated state machine: one instance per member. */
  readonly stateMachine: Machine;
  /** How client requests map to commands and reads of this machine (e.g. `kvService` of `@keel/kv`). */
  readonly service: RequestService<Machine, Result>;
  /** A pino logger; the member logs through child loggers (`component: raft | wal | transport | clients`). Default: silent. */
  readonly logger?: Logger;
  /** A prom-client registry to register the member's metrics in (it gets the default label `node_id`). Default: a new one. */
  readonly metricsRegistry?: Registry;
  /**
   * The labels the service gives requests (`ServiceRequest.label`), when they are a closed set:
   * each gets its `keel_client_requests_total{kind}` series at 0 from start. Default: none (a
   * label's series then appears with its first request).
   */
  readonly requestLabels?: readonly string[];
  /** Gauges of the state machine's own (for example `keel_kv_keys`), read at every scrape. */
  readonly stateGauges?: readonly StateGauge[];
  /**
   * Called once with an error that stops the member for good (a failed fsync, a broken invariant):
   * the process should exit. Default: log it at fatal.
   */
  readonly onFatal?: (err: Error) => void;
  /** TEST ONLY: dial these members at these addresses whatever the configuration says (see `peerRoutes`). */
  readonly peerRoutes?: ReadonlyMap<NodeId, Address>;
  /** TEST ONLY: publish the WAL's fsynced lengths to this file after each fsync (see `walSyncPublisher`). */
  readonly walSyncFile?: string;
}

/** The options with every default filled in, checked. */
export interface ResolvedOptions {
  readonly id: NodeId;
  readonly clusterId: string;
  readonly dataDir: string;
  readonly peers: readonly PeerAddress[];
  readonly clients: readonly PeerAddress[];
  readonly peerBind: Address;
  readonly clientBind: Address;
  readonly http: Address | null;
  readonly join: boolean;
  readonly electionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly tickMs: number;
  readonly readLease: boolean;
  readonly snapshotEntries: number;
  readonly snapshotBytes: number;
  readonly compactKeepEntries: number;
  readonly walSegmentBytes: number;
}

/** The WAL segment size of a member that does not say: 64 MiB. */
export const DEFAULT_WAL_SEGMENT_BYTES = 64 * 1024 ** 2;
const MIN_WAL_SEGMENT_BYTES = 64 * 1024;
const MAX_WAL_SEGMENT_BYTES = 1024 ** 3;

export function resolveOptions<M extends ServedStateMachine<R>, R>(o: MemberOptions<M, R>): ResolvedOptions {
  if (!isValidMemberId(o.id)) throw new ConfigError(new InvalidMemberIdError(o.id, 'id').message);
  const self = o.peers.find((p) => p.id === o.id);
  if (self === undefined) {
    throw new ConfigError(
      `member id '${o.id}' is not among the peers (${o.peers.map((p) => p.id).join(', ')})`,
    );
  }
  const walSegmentBytes = o.walSegmentBytes ?? DEFAULT_WAL_SEGMENT_BYTES;
  if (
    !Number.isSafeInteger(walSegmentBytes) ||
    walSegmentBytes < MIN_WAL_SEGMENT_BYTES ||
    walSegmentBytes > MAX_WAL_SEGMENT_BYTES
  ) {
    throw new ConfigError(
      `the WAL segment size must be between 64 KiB and 1 GiB, got ${walSegmentBytes} bytes`,
    );
  }
  let clients = o.clients ?? [];
  const ownClient = clients.find((c) => c.id === o.id);
  const clientBind = o.clientBind ?? ownClient;
  if (clientBind === undefined)
    throw new ConfigError(`no client address: give clientBind or this member's entry in clients`);
  if (ownClient === undefined)
    clients = [...clients, { id: o.id, host: clientBind.host, port: clientBind.port }];
  if (o.curve !== undefined) checkCurve(o.id, o.peers, o.curve);
  if (o.adminToken !== undefined && !/^[\x21-\x7e]{16,}$/.test(o.adminToken))
    throw new ConfigError('the admin token must be at least 16 printable characters without spaces');
  const tickMs = o.tickMs ?? 10;
  const electionTimeoutMs = o.electionTimeoutMs ?? 150;
  const heartbeatIntervalMs = o.heartbeatIntervalMs ?? 50;
  if (electionTimeoutMs < 2 * tickMs) {
    throw new ConfigError(
      `electionTimeoutMs (${electionTimeoutMs}) must be at least two ticks (${2 * tickMs} ms)`,
    );
  }
  if (heartbeatIntervalMs >= electionTimeoutMs) {
    throw new ConfigError(
      `heartbeatIntervalMs (${heartbeatIntervalMs}) must be below electionTimeoutMs (${electionTimeoutMs})`,
    );
  }
  return {
    id: o.id,
    clusterId: o.clusterId ?? 'keel',
    dataDir: o.dataDir,
    peers: o.peers,
    clients,
    peerBind: o.peerBind ?? { host: self.host, port: self.port },
    clientBind: { host: clientBind.host, port: clientBind.port },
    http: o.http ?? null,
    join: o.join ?? false,
    electionTimeoutMs,
    heartbeatIntervalMs,
    tickMs,
    readLease: o.readLease ?? false,
    snapshotEntries: o.snapshotEntries ?? 10_000,
    snapshotBytes: o.snapshotBytes ?? 64 * 1024 ** 2,
    compactKeepEntries: o.compactKeepEntries ?? 5_000,
    walSegmentBytes,
  };
}

const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

function checkCurve(id: NodeId, peers: readonly PeerAddress[], curve: MemberCurve): void {
  if (!Z85_KEY.test(curve.publicKey))
    throw new ConfigError(`this member's public key is not a 40-character Z85 CURVE key`);
  if (!Z85_KEY.test(curve.secretKey))
    throw new ConfigError(`this member's secret key is not a 40-character Z85 CURVE key`);
  for (const [peer, key] of curve.peerKeys) {
    if (!Z85_KEY.test(key))
      throw new ConfigError(`the public key of member ${peer} is not a 40-character Z85 CURVE key`);
    if (peer === id && key !== curve.publicKey)
      throw new ConfigError(
        `the peer keys list another public key for this member (${id}) than its key pair has`,
      );
  }
  const missing = peers.filter((p) => p.id !== id && !curve.peerKeys.has(p.id)).map((p) => p.id);
  if (missing.length > 0) throw new ConfigError(`no CURVE public key for member(s) ${missing.join(', ')}`);
  curve.clientKeys.forEach((key, i) => {
    if (!Z85_KEY.test(key)) throw new ConfigError(`client key ${i + 1} is not a 40-character Z85 CURVE key`);
  });
}

/** Engine ticks for the configured times (rounded so the timeout is never shorter than asked). */
export function engineTicks(c: {
  readonly electionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly tickMs: number;
}): { electionTicks: number; heartbeatTicks: number } {
  const electionTicks = Math.max(2, Math.ceil(c.electionTimeoutMs / c.tickMs));
  const heartbeatTicks = Math.min(
    electionTicks - 1,
    Math.max(1, Math.round(c.heartbeatIntervalMs / c.tickMs)),
  );
  return { electionTicks, heartbeatTicks };
}
