import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { KvCommandName } from '../names.js';
import { Encoding } from './encoding.js';
import { usage } from './errors.js';

export { KV_COMMAND_NAMES as KV_COMMANDS, type KvCommandName } from '../names.js';

const COMMON = {
  dir: { type: 'string' },
  endpoints: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'key-base64': { type: 'boolean' },
  'key-hex': { type: 'boolean' },
  'curve-key-file': { type: 'string' },
  'curve-server-keys': { type: 'string' },
} as const;
/** How values are spelled: in for put/cas, out for get/scan. */
const VALUE_ENCODING = { base64: { type: 'boolean' }, hex: { type: 'boolean' } } as const;
/** Writes: `--session` trades two more log entries for exactly-once retries. */
const WRITE = { session: { type: 'boolean' } } as const;
/** What get, scan and del select and print, with the same names in all three. */
const LISTING = {
  prefix: { type: 'string' },
  limit: { type: 'string' },
  'keys-only': { type: 'boolean' },
  'count-only': { type: 'boolean' },
} as const;

export const OPTIONS = {
  put: {
    ...COMMON,
    ...VALUE_ENCODING,
    ...WRITE,
    file: { type: 'string' },
    lease: { type: 'string' },
    ttl: { type: 'string' },
  },
  get: { ...COMMON, ...VALUE_ENCODING, ...LISTING, stale: { type: 'boolean' }, rev: { type: 'string' } },
  del: { ...COMMON, ...WRITE, ...LISTING },
  cas: {
    ...COMMON,
    ...VALUE_ENCODING,
    ...WRITE,
    file: { type: 'string' },
    absent: { type: 'boolean' },
    version: { type: 'string' },
  },
  incr: { ...COMMON, ...WRITE },
  scan: {
    ...COMMON,
    ...VALUE_ENCODING,
    ...LISTING,
    stale: { type: 'boolean' },
    start: { type: 'string' },
    end: { type: 'string' },
  },
  watch: {
    ...COMMON,
    ...VALUE_ENCODING,
    prefix: { type: 'string' },
    rev: { type: 'string' },
    limit: { type: 'string' },
    prev: { type: 'boolean' },
  },
  txn: { ...COMMON, ...VALUE_ENCODING, ...WRITE, file: { type: 'string' } },
  lease: { ...COMMON, keys: { type: 'boolean' } },
  keygen: {
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    out: { type: 'string' },
    id: { type: 'string' },
  },
} as const satisfies Record<KvCommandName, ParseArgsConfig['options']>;

/** `keel lease <subcommand>` (all take the `lease` options). */
export const LEASE_SUBCOMMANDS = ['grant', 'keep-alive', 'revoke', 'ttl', 'list'] as const;

export type Values = Partial<Record<string, string | boolean>>;

export interface Parsed {
  readonly values: Values;
  readonly positionals: readonly string[];
}

/**
 * Parses one command's arguments (unknown options are usage errors). `incr`'s delta may be
 * negative: `keel incr n -3` takes `-3` as the delta, not as an option.
 */
export function parse(name: KvCommandName, argv: readonly string[]): Parsed {
  const isDelta = (a: string): boolean => name === 'incr' && /^-\d+$/.test(a);
  const args = argv.filter((a) => !isDelta(a));
  const negative = argv.filter(isDelta);
  try {
    const r = parseArgs({ args, options: OPTIONS[name], allowPositionals: true, strict: true });
    return { values: r.values as Values, positionals: [...r.positionals, ...negative] };
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional.*$/s, '').replace(/\.$/, '');
    throw usage(`${message.charAt(0).toLowerCase()}${message.slice(1)} for '${name}'`);
  }
}

/** The positional arguments, checked against `expected` (names for the usage line). */
export function positionals(name: KvCommandName, p: Parsed, expected: readonly string[]): readonly string[] {
  const { positionals: got } = p;
  if (got.length < expected.length) {
    throw usage(
      `missing ${expected.slice(got.length).join(' ')} (usage: keel ${name} ${expected.join(' ')})`,
    );
  }
  if (got.length > expected.length) throw usage(`unexpected argument '${got[expected.length]}'`);
  return got;
}

/** `--base64` / `--hex` (at most one): how values are spelled. */
export function valueEncoding(values: Values): Encoding {
  return encodingOf(values.base64 === true, values.hex === true, '--base64', '--hex');
}

/** `--key-base64` / `--key-hex` (at most one): how keys, prefixes and range bounds are spelled. */
export function keyEncoding(values: Values): Encoding {
  return encodingOf(values['key-base64'] === true, values['key-hex'] === true, '--key-base64', '--key-hex');
}

function encodingOf(base64: boolean, hex: boolean, b: string, h: string): Encoding {
  if (base64 && hex) throw usage(`use ${b} or ${h}, not both`);
  return base64 ? Encoding.Base64 : hex ? Encoding.Hex : Encoding.Text;
}

/** `--limit <n>`: a positive integer, or no limit. */
export function limitOf(values: Values): number {
  if (typeof values.limit !== 'string') return Number.POSITIVE_INFINITY;
  if (!/^\d+$/.test(values.limit) || Number(values.limit) < 1) {
    throw usage(`--limit must be a positive integer, got '${values.limit}'`);
  }
  return Number(values.limit);
}

/** `--rev <n>` (get, watch): a positive integer, or undefined when not given. */
export function revisionOf(rev: string | boolean | undefined): number | undefined {
  if (typeof rev !== 'string') return undefined;
  if (!/^\d+$/.test(rev) || Number(rev) < 1 || !Number.isSafeInteger(Number(rev))) {
    throw usage(`--rev must be a positive integer, got '${rev}'`);
  }
  return Number(rev);
}
