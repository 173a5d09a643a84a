import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type KeyValue, KvClient, KvClientError, type ReadConsistency, type ScanRangeInput } from '@keel/kv';
import { ClientConnection, generateKeyPair } from '@keel/transport-zmq';
import { ClusterFileError, MemberState, readClusterFile } from '../cluster/ClusterFile.js';
import { checkOwnership } from '../cluster/ownership.js';
import { defaultClusterDir, repoRoot } from '../cluster/paths.js';
import { ExitCode, type Io } from '../io.js';

export const KV_COMMANDS = ['put', 'get', 'del', 'cas', 'scan', 'keygen'] as const;
export type KvCommandName = (typeof KV_COMMANDS)[number];

export const KV_HELP = `keel put|get|del|cas|scan — read and write a cluster's keys; keel keygen — CURVE keys

Usage:
  keel put <key> <value>                    write a key; prints OK
  keel get <key> [--stale]                  print the value, or (not found) (exit 0 either way)
  keel del <key>                            delete a key; prints OK, or (not found)
  keel cas <key> <expected> <new>           write <new> only if the value is <expected>
  keel cas <key> --absent <new>             ... only if the key does not exist
  keel cas <key> --version <n> <new>        ... only if the key's version is n (0: absent)
                                            a failed comparison exits 1 and shows the current value
  keel scan [--prefix <p> | --start <a> [--end <b>]] [--limit <n>] [--stale]
                                            keys in byte order, one "key<TAB>value" per line
                                            (default: every key; --limit caps how many)
  keel keygen                               a new CURVE key pair (Z85) for a member or a client

Options:
  --endpoints <host:port,...>   members' client endpoints (default: from the cluster file)
  --dir <dir>                   cluster directory whose cluster.json names the endpoints
                                (default as for 'keel cluster': <repo>/.cluster in the checkout,
                                ./keel-cluster elsewhere; env KEEL_CLUSTER_DIR)
  --timeout <s>                 give up after this many seconds (default 5)
  --stale                       get/scan: answer from any member's local state (may be behind)
  --json                        one JSON document on stdout
  -h, --help                    this help

Any member serves any request (followers forward writes to the leader); writes are retried
exactly once across leader changes.

Exit codes: 0 ok (get of a missing key included), 1 failure (cluster unreachable, timeout, cas
comparison failed), 2 usage error, 4 no cluster running in the cluster directory.`;

const COMMON = {
  dir: { type: 'string' },
  endpoints: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const OPTIONS = {
  put: COMMON,
  get: { ...COMMON, stale: { type: 'boolean' } },
  del: COMMON,
  cas: { ...COMMON, absent: { type: 'boolean' }, version: { type: 'string' } },
  scan: {
    ...COMMON,
    stale: { type: 'boolean' },
    prefix: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    limit: { type: 'string' },
  },
  keygen: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
} as const satisfies Record<KvCommandName, ParseArgsConfig['options']>;

/** How many positional arguments each command takes (cas: 2 with --absent/--version, else 3). */
const ARITY: Record<KvCommandName, readonly string[]> = {
  put: ['<key>', '<value>'],
  get: ['<key>'],
  del: ['<key>'],
  cas: ['<key>', '<expected>', '<new>'],
  scan: [],
  keygen: [],
};

type Values = Partial<Record<string, string | boolean>>;

class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

/** A usage mistake; the message gets "; run 'keel <command> --help'" appended. */
const usage = (message: string): CommandError => new CommandError(message, ExitCode.Usage);

const decoder = new TextDecoder('utf-8', { fatal: false });
const text = (b: Uint8Array): string => decoder.decode(b);

export async function runKvCommand(name: KvCommandName, argv: readonly string[], io: Io): Promise<ExitCode> {
  try {
    let parsed: { values: Values; positionals: string[] };
    try {
      parsed = parseArgs({
        args: [...argv],
        options: OPTIONS[name],
        allowPositionals: true,
        strict: true,
      }) as {
        values: Values;
        positionals: string[];
      };
    } catch (err) {
      const message = (err as Error).message.replace(/\. To specify a positional.*$/s, '').replace(/\.$/, '');
      throw usage(`${message.charAt(0).toLowerCase()}${message.slice(1)} for '${name}'`);
    }
    const { values, positionals } = parsed;
    if (values.help === true) {
      io.out(KV_HELP);
      return ExitCode.Ok;
    }
    if (name === 'keygen') return keygen(values, positionals, io);
    const expected =
      name === 'cas' && (values.absent === true || values.version !== undefined)
        ? ARITY.cas.filter((a) => a !== '<expected>')
        : ARITY[name];
    if (positionals.length < expected.length) {
      throw usage(
        `missing ${expected.slice(positionals.length).join(' ')} (usage: keel ${name} ${expected.join(' ')})`,
      );
    }
    if (positionals.length > expected.length)
      throw usage(`unexpected argument '${positionals[expected.length]}'`);
    const timeoutMs = seconds(values.timeout) * 1000;
    const target = endpoints(values, io);
    const kv = new KvClient({
      endpoints: target.endpoints,
      members: target.members,
      connect: (a) => new ClientConnection({ address: `tcp://${a}` }),
      timeoutMs,
      attemptTimeoutMs: Math.min(1000, timeoutMs),
    });
    try {
      return await COMMANDS[name](kv, values, positionals, io);
    } catch (err) {
      if (err instanceof KvClientError) {
        const hint =
          err.code === 'KEEL_CLIENT_UNAVAILABLE' || err.code === 'KEEL_CLIENT_TIMEOUT'
            ? `; is the cluster running? see '${cli()} cluster status'`
            : '';
        throw new CommandError(
          `${err.message} [${err.code}]${hint}`,
          err.code === 'KEEL_CLIENT_BAD_REQUEST' ? ExitCode.Usage : ExitCode.Failure,
        );
      }
      throw err;
    } finally {
      await kv.close();
    }
  } catch (err) {
    if (err instanceof CommandError) {
      const help = err.exitCode === ExitCode.Usage ? `; run 'keel ${name} --help'` : '';
      io.err(`keel ${name}: ${err.message}${help}`);
      return err.exitCode;
    }
    if (err instanceof ClusterFileError) {
      io.err(`keel ${name}: ${err.message}`);
      return ExitCode.Failure;
    }
    throw err;
  }
}

function cli(): string {
  return repoRoot() !== null ? 'pnpm keel' : 'keel';
}

function seconds(v: string | boolean | undefined): number {
  if (typeof v !== 'string') return 5;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || n <= 0 || n > 3600)
    throw usage(`--timeout must be seconds from 0 to 3600, got '${v}'`);
  return n;
}

/** `--endpoints`, else the live members of the cluster file (with their ids, to follow leader hints). */
function endpoints(values: Values, io: Io): { endpoints: string[]; members: Map<string, string> } {
  if (typeof values.endpoints === 'string') {
    const list = values.endpoints
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const bad = list.find((e) => !/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(e));
    if (list.length === 0 || bad !== undefined) {
      throw usage(`--endpoints wants host:port[,host:port...], got '${bad ?? values.endpoints}'`);
    }
    return { endpoints: list, members: new Map() };
  }
  const cwd = io.cwd ?? process.cwd();
  const env = io.env ?? process.env;
  const dir = typeof values.dir === 'string' ? resolve(cwd, values.dir) : defaultClusterDir(cwd, env);
  const noCluster = new CommandError(
    `no cluster running in ${dir}; start one with '${cli()} cluster up${typeof values.dir === 'string' ? ` --dir ${values.dir}` : ''}' or name members with --endpoints host:port,...`,
    ExitCode.NoCluster,
  );
  const file = readClusterFile(dir);
  if (file === null) throw noCluster;
  const live = file.members.filter(
    (m) => m.state !== MemberState.Stopped && checkOwnership(m).kind === 'ours',
  );
  if (live.length === 0) throw noCluster;
  const members = new Map(live.map((m) => [m.id, `${file.host}:${m.ports.client}`]));
  return { endpoints: [...members.values()], members };
}

function consistency(values: Values): ReadConsistency {
  return values.stale === true ? 'stale' : 'linearizable';
}

function kvJson(kv: KeyValue): Record<string, unknown> {
  return {
    key: text(kv.key),
    value: text(kv.value),
    version: kv.version,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
  };
}

type Run = (kv: KvClient, values: Values, args: readonly string[], io: Io) => Promise<ExitCode>;

const arg = (args: readonly string[], i: number): string => args[i] as string;

const COMMANDS: Record<Exclude<KvCommandName, 'keygen'>, Run> = {
  async put(kv, values, args, io) {
    const r = await kv.put(arg(args, 0), arg(args, 1));
    io.out(values.json === true ? JSON.stringify(r) : 'OK');
    return ExitCode.Ok;
  },

  async get(kv, values, args, io) {
    const r = await kv.get(arg(args, 0), { consistency: consistency(values) });
    if (values.json === true) {
      io.out(JSON.stringify({ revision: r.revision, kv: r.kv === null ? null : kvJson(r.kv) }));
    } else io.out(r.kv === null ? '(not found)' : text(r.kv.value));
    return ExitCode.Ok;
  },

  async del(kv, values, args, io) {
    const r = await kv.delete(arg(args, 0));
    io.out(values.json === true ? JSON.stringify(r) : r.deleted ? 'OK' : '(not found)');
    return ExitCode.Ok;
  },

  async cas(kv, values, args, io) {
    const key = arg(args, 0);
    let expect: { value: string | null } | { version: number };
    let describe: string;
    if (values.absent === true && values.version !== undefined)
      throw usage('use --absent or --version, not both');
    if (values.absent === true) {
      expect = { value: null };
      describe = 'absent';
    } else if (typeof values.version === 'string') {
      if (!/^\d+$/.test(values.version)) throw usage(`--version must be an integer, got '${values.version}'`);
      expect = { version: Number(values.version) };
      describe = `version ${values.version}`;
    } else {
      expect = { value: arg(args, 1) };
      describe = `'${arg(args, 1)}'`;
    }
    const r = await kv.cas(key, expect, arg(args, args.length - 1));
    if (values.json === true) {
      io.out(JSON.stringify(r.ok ? r : { ...r, current: r.current === null ? null : kvJson(r.current) }));
      return r.ok ? ExitCode.Ok : ExitCode.Failure;
    }
    if (r.ok) {
      io.out('OK');
      return ExitCode.Ok;
    }
    const now = r.current === null ? 'absent' : `'${text(r.current.value)}' (version ${r.current.version})`;
    io.err(`keel cas: comparison failed, nothing written: '${key}' is ${now}, expected ${describe}`);
    return ExitCode.Failure;
  },

  async scan(kv, values, _args, io) {
    const { prefix, start, end } = values;
    if (typeof prefix === 'string' && (start !== undefined || end !== undefined)) {
      throw usage('use --prefix or --start/--end, not both');
    }
    let limit = Number.POSITIVE_INFINITY;
    if (typeof values.limit === 'string') {
      if (!/^\d+$/.test(values.limit) || Number(values.limit) < 1) {
        throw usage(`--limit must be a positive integer, got '${values.limit}'`);
      }
      limit = Number(values.limit);
    }
    const range: ScanRangeInput =
      typeof prefix === 'string'
        ? { prefix }
        : { start: typeof start === 'string' ? start : '', end: typeof end === 'string' ? end : null };
    const items: KeyValue[] = [];
    for await (const page of kv.scanPages(range, {
      consistency: consistency(values),
      limit: Math.min(1000, limit),
    })) {
      items.push(...page.items.slice(0, limit - items.length));
      if (items.length >= limit) break;
    }
    if (values.json === true) io.out(JSON.stringify(items.map(kvJson)));
    else if (items.length === 0) io.out('(no keys)');
    else for (const item of items) io.out(`${text(item.key)}\t${text(item.value)}`);
    return ExitCode.Ok;
  },
};

function keygen(values: Values, args: readonly string[], io: Io): ExitCode {
  if (args.length > 0) throw usage(`unexpected argument '${args[0]}'`);
  const pair = generateKeyPair();
  if (values.json === true) io.out(JSON.stringify({ publicKey: pair.publicKey, secretKey: pair.secretKey }));
  else {
    io.out(`public: ${pair.publicKey}`);
    io.out(`secret: ${pair.secretKey}`);
  }
  return ExitCode.Ok;
}
