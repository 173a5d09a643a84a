import type { CompareInput, KvClient, TxnInput, TxnOpInput, TxnOpResult } from '@keel/kv';
import { ExitCode, type Io } from '../../io.js';
import { usage } from './errors.js';
import { readValue } from './input.js';
import { spellingOf } from './listing.js';
import type { Parsed } from './options.js';
import { kvJson, printItem } from './output.js';

const OPS = ['=', '!=', '<', '>'];
const TARGETS = ['value', 'version', 'createRevision', 'modRevision', 'exists', 'lease'] as const;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') throw usage(`${where} must be a string`);
  return v;
}

function compareOf(c: unknown, i: number): CompareInput {
  const where = `compare[${i}]`;
  if (!isObject(c)) throw usage(`${where} must be an object`);
  const key = str(c.key, `${where}.key`);
  const op = c.op === undefined ? '=' : c.op;
  if (typeof op !== 'string' || !OPS.includes(op)) throw usage(`${where}.op must be one of = != < >`);
  const targets = TARGETS.filter((t) => t in c);
  if (targets.length !== 1) throw usage(`${where} needs exactly one of ${TARGETS.join(', ')}`);
  const t = targets[0]!;
  const o = op as CompareInput['op'] & string;
  if (t === 'value') return { key, value: str(c.value, `${where}.value`), op: o };
  if (t === 'exists') {
    if (typeof c.exists !== 'boolean') throw usage(`${where}.exists must be true or false`);
    if (o !== '=' && o !== '!=') throw usage(`${where}: exists takes = or !=`);
    return { key, exists: c.exists, op: o };
  }
  const n = c[t];
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw usage(`${where}.${t} must be a count`);
  if (t === 'version') return { key, version: n, op: o };
  if (t === 'createRevision') return { key, createRevision: n, op: o };
  if (t === 'lease') return { key, lease: n, op: o };
  return { key, modRevision: n, op: o };
}

function opOf(o: unknown, where: string): TxnOpInput {
  if (!isObject(o)) throw usage(`${where} must be an object`);
  if ('put' in o) {
    const put = { put: str(o.put, `${where}.put`), value: str(o.value, `${where}.value`) };
    if (o.lease === undefined) return put;
    if (typeof o.lease !== 'number' || !Number.isSafeInteger(o.lease) || o.lease < 1)
      throw usage(`${where}.lease must be a lease id (a positive integer)`);
    return { ...put, lease: o.lease };
  }
  if ('delete' in o) return { delete: str(o.delete, `${where}.delete`) };
  if ('get' in o) return { get: str(o.get, `${where}.get`) };
  if ('range' in o && isObject(o.range)) {
    const r = o.range;
    const limit = o.limit;
    if (limit !== undefined && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1)) {
      throw usage(`${where}.limit must be a positive integer`);
    }
    const range =
      'prefix' in r
        ? { prefix: str(r.prefix, `${where}.range.prefix`) }
        : {
            start: str(r.start, `${where}.range.start`),
            end: r.end === undefined || r.end === null ? null : str(r.end, `${where}.range.end`),
          };
    return limit === undefined ? { range } : { range, limit };
  }
  throw usage(`${where} needs one of put (with value), delete, get, range`);
}

/** The JSON document `keel txn` reads: `{ "compare": [...], "success": [...], "failure": [...] }`. */
export function parseTxnJson(text: string): TxnInput {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw usage(`the transaction is not JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw usage('the transaction must be a JSON object');
  const unknown = Object.keys(doc).filter((k) => !['compare', 'success', 'failure'].includes(k));
  if (unknown.length > 0)
    throw usage(`unknown field(s) ${unknown.join(', ')} (expected compare, success, failure)`);
  const list = (name: string): unknown[] => {
    const v = doc[name];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw usage(`${name} must be an array`);
    return v;
  };
  return {
    compare: list('compare').map(compareOf),
    success: list('success').map((o, i) => opOf(o, `success[${i}]`)),
    failure: list('failure').map((o, i) => opOf(o, `failure[${i}]`)),
  };
}

/**
 * `txn [-] | --file <path>`: a transaction from JSON (standard input by default). Prints
 * SUCCESS or FAILURE (which branch ran), then one line per operation; exits 0 when the compares
 * held, 1 when the failure branch ran. `--json`: the result as one JSON document.
 */
export async function txn(kv: KvClient, p: Parsed, io: Io): Promise<ExitCode> {
  const { values } = p;
  if (p.positionals.length > 1 || (p.positionals.length === 1 && p.positionals[0] !== '-')) {
    throw usage(
      `unexpected argument '${p.positionals[p.positionals.length - 1]}' (the transaction comes from stdin or --file)`,
    );
  }
  const file = typeof values.file === 'string' ? values.file : undefined;
  const bytes = await readValue('-', file, 'text', io);
  const input = parseTxnJson(new TextDecoder().decode(bytes));
  const r = await kv.txn(input);
  const spelling = spellingOf(values);
  if (values.json === true) {
    io.out(
      JSON.stringify({
        succeeded: r.succeeded,
        revision: r.revision,
        results: r.results.map((x) => resultJson(x, spelling)),
      }),
    );
  } else {
    io.out(r.succeeded ? 'SUCCESS' : 'FAILURE');
    for (const x of r.results) {
      if (x.type === 'put') io.out(`OK (version ${x.version})`);
      else if (x.type === 'delete') io.out(x.deleted ? '1' : '0');
      else if (x.type === 'get') {
        if (x.kv === null) io.out('(absent)');
        else printItem(io, x.kv, spelling, 'value');
      } else for (const kv of x.items) printItem(io, kv, spelling, 'both');
    }
  }
  return r.succeeded ? ExitCode.Ok : ExitCode.Failure;
}

function resultJson(x: TxnOpResult, spelling: ReturnType<typeof spellingOf>): Json {
  if (x.type === 'put') return { type: 'put', version: x.version };
  if (x.type === 'delete') return { type: 'delete', deleted: x.deleted };
  if (x.type === 'get') return { type: 'get', kv: x.kv === null ? null : kvJson(x.kv, spelling) };
  return { type: 'range', items: x.items.map((kv) => kvJson(kv, spelling)), more: x.more };
}
