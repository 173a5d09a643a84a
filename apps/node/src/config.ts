import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { InvalidMemberIdError, isValidMemberId } from '@keel/core';
import { DEFAULT_SESSION_TIMEOUT_MS, DEFAULT_WATCH_LIMITS } from '@keel/kv';
import {
  type Address,
  ConfigError,
  DEFAULT_WAL_SEGMENT_BYTES,
  type MemberCurve,
  type PeerAddress,
  parseAddress,
  parsePeers,
} from '@keel/server';
import { readKeyPairFile, readPeerKeys, readPublicKeys, readSecretFile } from './keyFiles.js';

export type { Address };
/** A configuration mistake: reported as one line, never as a stack trace (exit 2). */
export { ConfigError };

export interface NodeConfig {
  readonly id: string;
  readonly clusterId: string;
  /** Every voting member's peer address (advertised), this member included. */
  readonly peers: readonly PeerAddress[];
  /** Every member's client address (advertised), for leader hints; this member's at least. */
  readonly clients: readonly PeerAddress[];
  readonly peerBind: Address;
  readonly clientBind: Address;
  /** HTTP endpoint for /metrics, /status, /healthz; null disables it. */
  readonly http: Address | null;
  readonly dataDir: string;
  /** Minimum election timeout T in ms; timeouts are drawn from [T, 2T). */
  readonly electionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly tickMs: number;
  readonly readLease: boolean;
  /** Admin API may isolate and heal this member (`--fault-injection`). */
  readonly faultInjection: boolean;
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** Log format: JSON lines, or human-readable (default: pretty on a TTY). */
  readonly logFormat: 'json' | 'pretty';
  /** Session expiry for exactly-once client sessions, decided by log time. */
  readonly sessionTimeoutMs: number;
  /**
   * Join an existing cluster instead of bootstrapping one: the member starts with no configuration,
   * never campaigns, and learns the configuration from the leader once it is added
   * (`keel members add`). `peers` then lists the existing members to reach.
   */
  readonly join: boolean;
  /** Take a snapshot after this many applied entries (0: no entry limit). */
  readonly snapshotEntries: number;
  /** Or after entries carrying this many bytes were applied, whichever comes first (0: no byte limit). */
  readonly snapshotBytes: number;
  /** Entries kept in the WAL behind a snapshot, for slow followers. */
  readonly compactKeepEntries: number;
  /** Bytes per WAL segment file (the current one and the next, preallocated, are on disk). */
  readonly walSegmentBytes: number;
  /** Bounds of this member's watch service (`--watch-history`, `--watch-history-bytes`, `--max-watchers`). */
  readonly watch: { readonly maxEvents: number; readonly maxBytes: number; readonly maxWatchers: number };
  /** CURVE keys (`--curve-*`): absent, traffic is unauthenticated. */
  readonly curve?: MemberCurve;
  /** The admin HTTP bearer token (`--admin-token-file`). */
  readonly adminToken?: string;
  /** How to secure the member, for the startup warning of one without keys. */
  readonly insecureHint: string;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const NODE_USAGE = `Usage: keel node --id <id> --peers <id=host:port,...> --data-dir <dir> [options]

Required (flag, environment variable, or key in --config <file.json>):
  --id <id>                     this member's id (KEEL_ID)
  --peers <id=host:port,...>    every member's peer address, this one included (KEEL_PEERS)
  --data-dir <dir>              where the WAL lives; created if missing (KEEL_DATA_DIR)

Options:
  --clients <id=host:port,...>  every member's client address, for leader hints (KEEL_CLIENTS)
  --client-bind <host:port>     where clients connect (default: this member's --clients entry)
  --peer-bind <host:port>       where peers connect (default: this member's --peers entry)
  --http <[host:]port>          /metrics, /status and /healthz (KEEL_HTTP; default: off); a bare
                                port binds 127.0.0.1, another host is logged as exposed
  --cluster-id <name>           refuse data directories of another cluster (default: keel)
  --election-timeout <ms>       minimum election timeout T; timeouts in [T, 2T) (default 150)
  --heartbeat-interval <ms>     leader heartbeat (default 50)
  --tick <ms>                   engine tick (default 10)
  --read-lease                  serve linearizable reads from the leader's lease (clock assumption)
  --fault-injection             let the admin API isolate this member from its peers and heal it
                                (POST /isolate, /heal; for experiments; KEEL_FAULT_INJECTION)
  --session-timeout <ms>        client session expiry, by log time (default ${DEFAULT_SESSION_TIMEOUT_MS})
  --join                        join a running cluster (add it with 'keel members add'): start
                                with no configuration and take it from the leader; --peers lists
                                the members to reach, this one included
  --snapshot-entries <n>        snapshot the store every n applied entries (default 10000; 0: no limit)
  --snapshot-bytes <size>       ...or once applied entries carry this much data, whichever comes
                                first: bytes, or with KiB/MiB/GiB (default 64MiB; 0: no limit)
  --compact-keep <n>            entries kept in the WAL behind a snapshot (default 5000)
  --wal-segment-size <size>     bytes per WAL segment file; the current one and the next,
                                preallocated, are on disk, so the WAL takes about twice this
                                (default 64MiB for servers; 'keel cluster up' uses 4MiB;
                                64KiB to 1GiB)
  --watch-history <n>           events kept for watches that start in the past or resume; a watch
                                from an older revision gets 'compacted' (default ${DEFAULT_WATCH_LIMITS.maxEvents})
  --watch-history-bytes <size>  ...and at most this many bytes of them (default ${DEFAULT_WATCH_LIMITS.maxBytes / 1024 ** 2}MiB)
  --max-watchers <n>            watches open on this member at once; one more evicts the least
                                recently polled (default ${DEFAULT_WATCH_LIMITS.maxWatchers})
  --curve-secret-key-file <file>
                                this member's CURVE key pair ('keel keygen --out <dir> --id <id>'
                                writes <id>.key, mode 0600); with it, peer and client traffic is
                                encrypted and only the keys below are admitted (KEEL_CURVE_SECRET_KEY_FILE)
  --curve-peer-keys <dir|file>  members' public keys: a dir of <id>.pub files or a file of
                                <id>=<key> lines (KEEL_CURVE_PEER_KEYS)
  --curve-client-keys <dir|file>
                                the client public keys admitted: a dir of *.pub files or a file
                                of <name>=<key> lines (KEEL_CURVE_CLIENT_KEYS)
  --admin-token-file <file>     admin HTTP needs 'Authorization: Bearer <token>' (all but /healthz);
                                required with --http when the member has keys (KEEL_ADMIN_TOKEN_FILE)
  --log-level <level>           trace|debug|info|warn|error|fatal|silent (KEEL_LOG_LEVEL; default info)
  --log-format <json|pretty>    default: pretty on a TTY, JSON otherwise
  --config <file.json>          read options from a JSON file (flags and environment win)
  -h, --help                    this help`;

type Raw = Record<string, string | boolean | undefined>;

const FLAGS = {
  id: { type: 'string' },
  peers: { type: 'string' },
  clients: { type: 'string' },
  'client-bind': { type: 'string' },
  'peer-bind': { type: 'string' },
  http: { type: 'string' },
  'cluster-id': { type: 'string' },
  'data-dir': { type: 'string' },
  'election-timeout': { type: 'string' },
  'heartbeat-interval': { type: 'string' },
  tick: { type: 'string' },
  'read-lease': { type: 'boolean' },
  'fault-injection': { type: 'boolean' },
  'session-timeout': { type: 'string' },
  join: { type: 'boolean' },
  'snapshot-entries': { type: 'string' },
  'snapshot-bytes': { type: 'string' },
  'compact-keep': { type: 'string' },
  'wal-segment-size': { type: 'string' },
  'watch-history': { type: 'string' },
  'watch-history-bytes': { type: 'string' },
  'max-watchers': { type: 'string' },
  'curve-secret-key-file': { type: 'string' },
  'curve-peer-keys': { type: 'string' },
  'curve-client-keys': { type: 'string' },
  'admin-token-file': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function envName(flag: string): string {
  return `KEEL_${flag.toUpperCase().replace(/-/g, '_')}`;
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** Parses argv, then the environment, then an optional JSON config file, in that precedence. */
export function parseNodeConfig(
  argv: readonly string[],
  // keel-lint-allow-object-map: environment variables, looked up by fixed names only
  env: Readonly<Record<string, string | undefined>> = {},
  isTty = false,
): NodeConfig | 'help' {
  let parsed: { values: Raw };
  try {
    parsed = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: false, strict: true }) as {
      values: Raw;
    };
  } catch (err) {
    throw new ConfigError((err as Error).message.replace(/\. To specify.*$/, ''));
  }
  if (parsed.values.help === true) return 'help';

  // keel-lint-allow-object-map: a config file's keys, each checked against the known flags
  let file: Record<string, unknown> = {};
  const configPath = (parsed.values.config as string | undefined) ?? env.KEEL_CONFIG;
  if (configPath !== undefined) {
    let text: string;
    try {
      text = readFileSync(configPath, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `cannot read config file ${configPath}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
    try {
      const json: unknown = JSON.parse(text);
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not an object');
      file = json as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`config file ${configPath} is not a JSON object: ${(err as Error).message}`);
    }
    for (const key of Object.keys(file)) {
      if (!Object.keys(FLAGS).some((f) => camel(f) === key) || key === 'config' || key === 'help') {
        throw new ConfigError(`unknown key '${key}' in config file ${configPath}`);
      }
    }
  }

  const get = (flag: keyof typeof FLAGS): string | undefined => {
    const v = parsed.values[flag];
    if (v !== undefined) return String(v);
    const e = env[envName(flag)];
    if (e !== undefined && e !== '') return e;
    const f = file[camel(flag)];
    if (f === undefined || f === null) return undefined;
    if (typeof f === 'object')
      throw new ConfigError(`config key '${camel(flag)}' must be a string, number or boolean`);
    return String(f);
  };
  const required = (flag: keyof typeof FLAGS): string => {
    const v = get(flag);
    if (v === undefined)
      throw new ConfigError(`missing --${flag} (or ${envName(flag)}); see 'keel node --help'`);
    return v;
  };
  const int = (flag: keyof typeof FLAGS, dflt: number, min: number, max: number): number => {
    const v = get(flag);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(`--${flag} must be an integer from ${min} to ${max}, got '${v}'`);
    }
    return n;
  };
  const size = (flag: keyof typeof FLAGS, dflt: number): number => {
    const v = get(flag);
    if (v === undefined) return dflt;
    const m = /^(\d+)\s*(|B|KiB|MiB|GiB)$/.exec(v.trim());
    const unit = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[m?.[2] ?? ''] ?? 1;
    const n = m === null ? Number.NaN : Number(m[1]) * unit;
    if (!Number.isSafeInteger(n)) {
      throw new ConfigError(
        `--${flag} must be a size in bytes, optionally with KiB, MiB or GiB (e.g. 64MiB), got '${v}'`,
      );
    }
    return n;
  };
  const atLeast = (flag: keyof typeof FLAGS, n: number, min: number): number => {
    if (n < min) throw new ConfigError(`--${flag} must be at least ${min} bytes (64KiB), got '${get(flag)}'`);
    return n;
  };
  const address = (flag: keyof typeof FLAGS, text: string): Address => {
    const a = parseAddress(text);
    if (!a.ok) throw new ConfigError(`--${flag}: ${a.message}`);
    return a.value;
  };

  const id = required('id');
  if (!isValidMemberId(id)) throw new ConfigError(new InvalidMemberIdError(id, '--id').message);
  const peersResult = parsePeers(required('peers'));
  if (!peersResult.ok) throw new ConfigError(`--peers: ${peersResult.message}`);
  const peers = peersResult.value;
  const self = peers.find((p) => p.id === id);
  if (self === undefined) {
    throw new ConfigError(`member id '${id}' is not among the peers (${peers.map((p) => p.id).join(', ')})`);
  }

  let clients: PeerAddress[] = [];
  const clientsText = get('clients');
  if (clientsText !== undefined) {
    const r = parsePeers(clientsText);
    if (!r.ok) throw new ConfigError(`--clients: ${r.message}`);
    clients = r.value;
    for (const c of clients) {
      if (!peers.some((p) => p.id === c.id))
        throw new ConfigError(`--clients names '${c.id}', which is not a peer`);
    }
  }
  const clientBindText = get('client-bind');
  const ownClient = clients.find((c) => c.id === id);
  let clientBind: Address;
  if (clientBindText !== undefined) clientBind = address('client-bind', clientBindText);
  else if (ownClient !== undefined) clientBind = { host: ownClient.host, port: ownClient.port };
  else throw new ConfigError(`missing --client-bind (or this member's entry in --clients)`);
  if (ownClient === undefined) clients = [...clients, { id, host: clientBind.host, port: clientBind.port }];

  const peerBindText = get('peer-bind');
  const peerBind =
    peerBindText !== undefined ? address('peer-bind', peerBindText) : { host: self.host, port: self.port };
  const httpText = get('http');
  // A bare port binds loopback: the admin API is for this host unless an address says otherwise.
  const http =
    httpText === undefined || httpText === 'off'
      ? null
      : /^\d{1,5}$/.test(httpText.trim())
        ? address('http', `127.0.0.1:${httpText.trim()}`)
        : address('http', httpText);

  const clusterId = get('cluster-id') ?? 'keel';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(clusterId)) {
    throw new ConfigError(`--cluster-id '${clusterId}' must be 1-64 characters of [A-Za-z0-9_.-]`);
  }

  const tickMs = int('tick', 10, 1, 1000);
  const electionTimeoutMs = int('election-timeout', 150, 2, 600_000);
  const heartbeatIntervalMs = int('heartbeat-interval', 50, 1, 600_000);
  if (electionTimeoutMs < 2 * tickMs) {
    throw new ConfigError(
      `--election-timeout (${electionTimeoutMs} ms) must be at least two ticks (${2 * tickMs} ms)`,
    );
  }
  if (heartbeatIntervalMs >= electionTimeoutMs) {
    throw new ConfigError(
      `--heartbeat-interval (${heartbeatIntervalMs} ms) must be below --election-timeout (${electionTimeoutMs} ms)`,
    );
  }

  const level = get('log-level') ?? 'info';
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`--log-level must be one of ${LEVELS.join(', ')}, got '${level}'`);
  }
  const format = get('log-format') ?? (isTty ? 'pretty' : 'json');
  if (format !== 'json' && format !== 'pretty') {
    throw new ConfigError(`--log-format must be json or pretty, got '${format}'`);
  }
  const leaseText = get('read-lease');
  const readLease = leaseText === 'true' || leaseText === '1';
  const faultText = get('fault-injection');
  const faultInjection = faultText === 'true' || faultText === '1';
  const joinText = get('join');
  const join = joinText === 'true' || joinText === '1';

  const curve = curveKeys(get);
  if (curve !== undefined && http !== null && get('admin-token-file') === undefined) {
    throw new ConfigError('with CURVE keys, --http needs --admin-token-file (the admin API would be open)');
  }
  const tokenFile = get('admin-token-file');
  const adminToken = tokenFile === undefined ? undefined : readSecretFile(tokenFile, '--admin-token-file');
  if (adminToken !== undefined && !/^[\x21-\x7e]{16,}$/.test(adminToken)) {
    throw new ConfigError(
      `--admin-token-file ${tokenFile}: the token must be at least 16 printable characters without spaces`,
    );
  }

  return {
    ...(curve === undefined ? {} : { curve }),
    ...(adminToken === undefined ? {} : { adminToken }),
    insecureHint: INSECURE_HINT,
    id,
    clusterId,
    peers,
    clients,
    peerBind,
    clientBind,
    http,
    dataDir: required('data-dir'),
    electionTimeoutMs,
    heartbeatIntervalMs,
    tickMs,
    readLease,
    faultInjection,
    logLevel: level as NodeConfig['logLevel'],
    logFormat: format,
    sessionTimeoutMs: int('session-timeout', DEFAULT_SESSION_TIMEOUT_MS, 1000, 7 * 24 * 3600 * 1000),
    join,
    snapshotEntries: int('snapshot-entries', 10_000, 0, 1_000_000_000),
    snapshotBytes: size('snapshot-bytes', 64 * 1024 ** 2),
    compactKeepEntries: int('compact-keep', 5_000, 0, 1_000_000_000),
    walSegmentBytes: walSegmentBytes(size('wal-segment-size', DEFAULT_WAL_SEGMENT_BYTES)),
    watch: {
      maxEvents: int('watch-history', DEFAULT_WATCH_LIMITS.maxEvents, 1, 10_000_000),
      maxBytes: atLeast(
        'watch-history-bytes',
        size('watch-history-bytes', DEFAULT_WATCH_LIMITS.maxBytes),
        64 * 1024,
      ),
      maxWatchers: int('max-watchers', DEFAULT_WATCH_LIMITS.maxWatchers, 1, 1_000_000),
    },
  };
}

export { engineTicks } from '@keel/server';

const INSECURE_HINT =
  'start members with --curve-secret-key-file, --curve-peer-keys and --curve-client-keys (docs/security.md)';

/** The `--curve-*` flags: all three or none. */
function curveKeys(get: (flag: keyof typeof FLAGS) => string | undefined): MemberCurve | undefined {
  const secret = get('curve-secret-key-file');
  const peers = get('curve-peer-keys');
  const clients = get('curve-client-keys');
  if (secret === undefined && peers === undefined && clients === undefined) return undefined;
  if (secret === undefined || peers === undefined || clients === undefined) {
    const missing = [
      secret === undefined ? '--curve-secret-key-file' : null,
      peers === undefined ? '--curve-peer-keys' : null,
      clients === undefined ? '--curve-client-keys' : null,
    ].filter((f) => f !== null);
    throw new ConfigError(`CURVE needs all three key flags: missing ${missing.join(', ')}`);
  }
  const pair = readKeyPairFile(secret, '--curve-secret-key-file');
  return {
    publicKey: pair.publicKey,
    secretKey: pair.secretKey,
    peerKeys: readPeerKeys(peers),
    clientKeys: [...readPublicKeys(clients, '--curve-client-keys').values()],
  };
}

function walSegmentBytes(n: number): number {
  if (n < 64 * 1024 || n > 1024 ** 3) {
    throw new ConfigError(`--wal-segment-size must be between 64KiB and 1GiB, got ${n} bytes`);
  }
  return n;
}
