import { CheckerError, CheckerErrorCode } from './errors.js';
import type { History, Operation } from './history.js';

/**
 * Checks the shape of every operation. Histories from `keel chaos` arrive as JSON, so the types
 * alone prove nothing; a malformed record would otherwise surface as a bogus violation.
 */
export function validateHistory(history: History): void {
  const ids = new Set<number>();
  for (let i = 0; i < history.length; i++) {
    const o = history[i]!;
    const fail = (why: string): never => {
      throw new CheckerError(
        CheckerErrorCode.InvalidHistory,
        `operation ${describe(o)} at index ${i}: ${why}`,
      );
    };
    if (typeof o !== 'object' || o === null) fail('not an object');
    if (typeof o.id !== 'number' || !Number.isFinite(o.id)) fail('id must be a finite number');
    if (ids.has(o.id)) fail(`duplicate id ${o.id}`);
    ids.add(o.id);
    if (o.op?.kind !== 'txn' && typeof (o as { key?: unknown }).key !== 'string')
      fail('key must be a string');
    if (typeof o.invoke !== 'number' || !Number.isFinite(o.invoke)) fail('invoke must be a finite number');
    if (o.complete !== null) {
      if (typeof o.complete !== 'number' || Number.isNaN(o.complete))
        fail('complete must be a number or null');
      if (o.complete < o.invoke) fail(`completes (${o.complete}) before it is invoked (${o.invoke})`);
    }
    const outcome = o.outcome as { status?: unknown; result?: unknown } | undefined;
    const status = outcome?.status;
    if (status !== 'ok' && status !== 'fail' && status !== 'unknown')
      fail('outcome.status must be ok, fail or unknown');
    if (status === 'ok' && o.complete === null) fail('an ok outcome needs a completion time');
    const result = outcome?.result;
    const op = o.op as { kind?: unknown; value?: unknown; expected?: unknown; delta?: unknown } | undefined;
    switch (op?.kind) {
      case 'put':
        if (typeof op.value !== 'string') fail('put value must be a string');
        break;
      case 'delete':
        break;
      case 'get':
        if (status === 'ok' && typeof result !== 'string' && result !== null) {
          fail('a get result must be a string or null');
        }
        break;
      case 'cas':
        if (typeof op.value !== 'string') fail('cas value must be a string');
        if (typeof op.expected !== 'string' && op.expected !== null)
          fail('cas expected must be a string or null');
        if (status === 'ok' && typeof result !== 'boolean') fail('a cas result must be a boolean');
        break;
      case 'incr':
        if (op.delta !== undefined && !Number.isSafeInteger(op.delta))
          fail('incr delta must be a safe integer');
        if (status === 'ok' && typeof result !== 'string') fail('an incr result must be a decimal string');
        break;
      case 'txn': {
        const problem = txnProblem(op as unknown as Record<string, unknown>, status, result);
        if (problem !== null) fail(problem);
        break;
      }
      default:
        fail('op.kind must be put, get, delete, cas, incr or txn');
    }
  }
}

const COMPARE_OPS = ['=', '!=', '<', '>'];

/** What is wrong with a transaction record, or null. */
function txnProblem(op: Record<string, unknown>, status: unknown, result: unknown): string | null {
  const { compare, success, failure } = op;
  if (!Array.isArray(compare) || !Array.isArray(success) || !Array.isArray(failure))
    return 'a txn needs compare, success and failure arrays';
  for (const c of compare as Record<string, unknown>[]) {
    if (typeof c !== 'object' || c === null || typeof c.key !== 'string') return 'a txn compare needs a key';
    if (c.target === 'value') {
      if (!COMPARE_OPS.includes(c.op as string) || typeof c.value !== 'string')
        return 'a txn value compare needs op =, !=, < or > and a string value';
    } else if (c.target === 'exists') {
      if ((c.op !== '=' && c.op !== '!=') || typeof c.value !== 'boolean')
        return 'a txn exists compare needs op = or != and a boolean value';
    } else return 'a txn compare target must be value or exists';
  }
  for (const s of [...success, ...failure] as Record<string, unknown>[]) {
    if (typeof s !== 'object' || s === null || typeof s.key !== 'string') return 'a txn step needs a key';
    if (s.kind === 'put') {
      if (typeof s.value !== 'string') return 'a txn put value must be a string';
    } else if (s.kind !== 'get' && s.kind !== 'delete') return 'a txn step must be put, get or delete';
  }
  if (status !== 'ok') return null;
  const r = result as { succeeded?: unknown; gets?: unknown } | null | undefined;
  if (typeof r !== 'object' || r === null || typeof r.succeeded !== 'boolean' || !Array.isArray(r.gets))
    return 'a txn result must be { succeeded, gets }';
  if (!r.gets.every((g) => typeof g === 'string' || g === null)) return 'txn gets must be strings or null';
  return null;
}

function describe(o: Operation): string {
  return typeof o === 'object' && o !== null && 'id' in o ? `#${String(o.id)}` : String(o);
}
