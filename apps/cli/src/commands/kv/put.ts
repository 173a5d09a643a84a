import type { KvClient } from '@keel/kv';
import { ExitCode, type Io } from '../../io.js';
import { usage } from './errors.js';
import { decodeArg, readValue } from './input.js';
import { ttlSecondsOf } from './lease.js';
import { keyEncoding, type Parsed, positionals, valueEncoding } from './options.js';

/**
 * `put <key> <value>`, `put <key> -` (stdin), `put <key> --file <path>`; `--lease <id>` attaches
 * the key to a lease, `--ttl <duration>` grants one of that TTL first and prints its id.
 */
export async function put(kv: KvClient, p: Parsed, io: Io): Promise<ExitCode> {
  const { values } = p;
  const file = typeof values.file === 'string' ? values.file : undefined;
  const [key, arg] = positionals('put', p, file === undefined ? ['<key>', '<value>'] : ['<key>']) as [
    string,
    string | undefined,
  ];
  const k = decodeArg(key, keyEncoding(values), 'key');
  const v = await readValue(arg, file, valueEncoding(values), io);
  const lease = await leaseOf(kv, values);
  const r = await kv.put(k, v, lease === 0 ? {} : { lease });
  if (values.json === true) io.out(JSON.stringify(typeof values.ttl === 'string' ? { ...r, lease } : r));
  else io.out(typeof values.ttl === 'string' ? `OK lease ${lease}` : 'OK');
  return ExitCode.Ok;
}

/** The lease to attach the key to: `--lease <id>`, a new one of `--ttl <duration>`, or 0. */
async function leaseOf(kv: KvClient, values: Parsed['values']): Promise<number> {
  const { lease, ttl } = values;
  if (typeof lease === 'string' && typeof ttl === 'string') throw usage('use --lease or --ttl, not both');
  if (typeof ttl === 'string') return (await kv.grantLease(ttlSecondsOf(ttl, '--ttl'))).id;
  if (typeof lease !== 'string') return 0;
  if (!/^\d+$/.test(lease) || Number(lease) < 1 || !Number.isSafeInteger(Number(lease))) {
    throw usage(`--lease must be a lease id (a positive integer), got '${lease}'`);
  }
  return Number(lease);
}
