import { type KvClient, MAX_LEASE_TTL_SECONDS, MIN_LEASE_TTL_SECONDS } from '@keel/kv';
import { parseDuration } from '@keel/ops/duration';
import { ExitCode, type Io } from '../../io.js';
import { humanBytes } from './encoding.js';
import { CommandError, usage } from './errors.js';
import { spellingOf } from './listing.js';
import { LEASE_SUBCOMMANDS, type Parsed, type Values } from './options.js';
import { keyJson, printLine } from './output.js';

const SUBCOMMANDS = LEASE_SUBCOMMANDS;

/** `<id>`: a lease id as `grant` printed it (decimal). */
function idOf(arg: string | undefined): number {
  if (arg === undefined) throw usage('missing <id>');
  if (!/^\d+$/.test(arg) || Number(arg) < 1 || !Number.isSafeInteger(Number(arg))) {
    throw usage(`<id> must be a lease id (a positive integer), got '${arg}'`);
  }
  return Number(arg);
}

/** A TTL: a duration (`10s`, `2m`, a bare number of seconds), rounded up to whole seconds. */
export function ttlSecondsOf(text: string, flag: string): number {
  const r = parseDuration(text, flag, {
    minMs: MIN_LEASE_TTL_SECONDS * 1000,
    maxMs: MAX_LEASE_TTL_SECONDS * 1000,
  });
  if (!r.ok) throw usage(r.message);
  return Math.ceil(r.ms / 1000);
}

function only(p: Parsed, n: number, usageLine: string): readonly string[] {
  const args = p.positionals.slice(1);
  if (args.length < n) throw usage(`missing argument (usage: keel lease ${usageLine})`);
  if (args.length > n) throw usage(`unexpected argument '${args[n]}'`);
  return args;
}

/**
 * `keel lease grant <ttl> | keep-alive <id> | revoke <id> | ttl <id> [--keys] | list`.
 * keep-alive runs until interrupted (exit 0) or the lease is lost (exit 1).
 */
export async function lease(kv: KvClient, p: Parsed, io: Io): Promise<ExitCode> {
  const sub = p.positionals[0];
  if (sub === undefined || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
    throw usage(`expected one of ${SUBCOMMANDS.join(', ')}${sub === undefined ? '' : `, got '${sub}'`}`);
  }
  const json = p.values.json === true;
  switch (sub) {
    case 'grant': {
      const [ttl] = only(p, 1, 'grant <ttl>') as [string];
      const g = await kv.grantLease(ttlSecondsOf(ttl, '<ttl>'));
      io.out(json ? JSON.stringify(g) : String(g.id));
      return ExitCode.Ok;
    }
    case 'revoke': {
      const id = idOf(only(p, 1, 'revoke <id>')[0]);
      const r = await kv.revokeLease(id);
      io.out(json ? JSON.stringify({ id, ...r }) : r.revoked ? 'REVOKED' : 'NOT FOUND');
      return r.revoked ? ExitCode.Ok : ExitCode.Failure;
    }
    case 'ttl':
      return ttlOf(kv, idOf(only(p, 1, 'ttl <id> [--keys]')[0]), p.values, io);
    case 'list': {
      only(p, 0, 'list');
      const all = await kv.leases();
      if (json) for (const l of all) io.out(JSON.stringify(l));
      else for (const l of all) io.out(`${l.id}\t${l.ttlSeconds}s`);
      return ExitCode.Ok;
    }
    default:
      return keepAlive(kv, idOf(only(p, 1, 'keep-alive <id>')[0]), json, io);
  }
}

async function ttlOf(kv: KvClient, id: number, values: Values, io: Io): Promise<ExitCode> {
  const keys = values.keys === true;
  const t = await kv.leaseTimeToLive(id, { keys });
  if (t === null) {
    if (values.json === true) io.out(JSON.stringify({ id, found: false }));
    else io.err(`keel lease: lease ${id} not found (expired or revoked)`);
    return ExitCode.Failure;
  }
  const spelling = spellingOf(values);
  if (values.json === true) {
    const { keys: k, ...rest } = t;
    io.out(JSON.stringify(keys ? { ...rest, keys: (k ?? []).map((x) => keyJson(x, spelling)) } : rest));
    return ExitCode.Ok;
  }
  io.out(`lease ${id}: granted ${t.grantedTtlSeconds}s, remaining ${(t.remainingMs / 1000).toFixed(1)}s`);
  for (const k of t.keys ?? []) printLine(io, [humanBytes(k, spelling.key)]);
  return ExitCode.Ok;
}

/** Renews until Ctrl-C (exit 0, the lease then expires on its own) or the lease is lost (exit 1). */
async function keepAlive(kv: KvClient, id: number, json: boolean, io: Io): Promise<ExitCode> {
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const ka = kv.keepAlive(id, { signal: ac.signal });
    let lost = false;
    void ka.expired.then(() => {
      lost = true;
    });
    for await (const g of ka) {
      io.out(json ? JSON.stringify(g) : `lease ${g.id} renewed for ${g.ttlSeconds}s`);
    }
    // The stream ends on Ctrl-C or once the lease is gone; `expired` settles first in that case.
    await Promise.race([ka.expired, new Promise((r) => setTimeout(r, 10))]);
    if (lost || !ac.signal.aborted) {
      throw new CommandError(
        `lease ${id} lost (expired, revoked, or no renewal succeeded in time)`,
        ExitCode.Failure,
      );
    }
    return ExitCode.Ok;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
