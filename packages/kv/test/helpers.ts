import { EntryType } from '@keel/core';
import fc from 'fast-check';
import {
  type CasExpect,
  encodeEntry,
  type KvCommand,
  type KvResult,
  KvStateMachine,
  type KvStateMachineOptions,
  type ScanRange,
  type SessionRef,
} from '../src/index.js';

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export const b = (s: string): Uint8Array => textEncoder.encode(s);
export const str = (bytes: Uint8Array): string => textDecoder.decode(bytes);
export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/**
 * A state machine fed through real log entries: each command is encoded as the leader would
 * propose it, at the next index, stamped with the harness's log time.
 */
export class Harness {
  readonly sm: KvStateMachine;
  index = 0;
  time = 1_000;

  constructor(options: KvStateMachineOptions = {}, sm?: KvStateMachine) {
    this.sm = sm ?? new KvStateMachine(options);
  }

  apply(command: KvCommand, time: number = this.time): KvResult {
    this.index++;
    return this.sm.apply({
      index: this.index,
      term: 1,
      type: EntryType.Normal,
      data: encodeEntry({ time, command }),
    });
  }

  advance(ms: number): void {
    this.time += ms;
  }

  put(key: string, value: string, session?: SessionRef): KvResult {
    return this.apply(
      session === undefined
        ? { type: 'put', key: b(key), value: b(value) }
        : { type: 'put', key: b(key), value: b(value), session },
    );
  }

  del(key: string, session?: SessionRef): KvResult {
    return this.apply(
      session === undefined ? { type: 'delete', key: b(key) } : { type: 'delete', key: b(key), session },
    );
  }

  cas(key: string, expect: CasExpect, value: string | null, session?: SessionRef): KvResult {
    const v = value === null ? null : b(value);
    return this.apply(
      session === undefined
        ? { type: 'cas', key: b(key), expect, value: v }
        : { type: 'cas', key: b(key), expect, value: v, session },
    );
  }

  register(): number {
    const r = this.apply({ type: 'registerSession' });
    if (!r.ok || r.type !== 'registerSession') throw new Error(`registration failed: ${JSON.stringify(r)}`);
    return r.clientId;
  }
}

/** The visible contents of a store: every key, with its metadata, as plain strings and numbers. */
export function dump(sm: KvStateMachine): unknown[] {
  const out: unknown[] = [];
  let after: Uint8Array | undefined;
  for (;;) {
    const page = sm.scan({ start: new Uint8Array(0), end: null }, 1000, after);
    for (const kv of page.items) {
      out.push([hex(kv.key), hex(kv.value), kv.version, kv.createRevision, kv.modRevision]);
    }
    if (!page.more) return out;
    after = page.items[page.items.length - 1]!.key;
  }
}

// --- arbitraries ---------------------------------------------------------------------------------

/** Keys from a small alphabet, so that random operations collide on the same keys. */
export const smallKey = fc.uint8Array({ minLength: 1, maxLength: 3, min: 0x61, max: 0x64 });
export const anyKey = fc.uint8Array({ minLength: 1, maxLength: 40 });
export const anyValue = fc.uint8Array({ maxLength: 64 });

export const sessionRef: fc.Arbitrary<SessionRef> = fc.record({
  clientId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
});

const maybeSession = fc.option(sessionRef, { nil: undefined });

function withSession<T extends object>(cmd: T, session: SessionRef | undefined): T {
  return session === undefined ? cmd : { ...cmd, session };
}

const casExpect: fc.Arbitrary<CasExpect> = fc.oneof(
  fc.record({ version: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) }),
  fc.record({ value: fc.option(anyValue, { nil: null }) }),
);

const scanRange: fc.Arbitrary<ScanRange> = fc.oneof(
  fc.record({ prefix: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({
    start: fc.uint8Array({ maxLength: 8 }),
    end: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: null }),
  }),
);

export function commandArb(key: fc.Arbitrary<Uint8Array> = anyKey): fc.Arbitrary<KvCommand> {
  const clientId = fc.integer({ min: 1, max: 2 ** 40 });
  return fc.oneof(
    fc
      .tuple(key, anyValue, maybeSession)
      .map(([k, value, s]) => withSession({ type: 'put', key: k, value } as const, s)),
    fc.tuple(key, maybeSession).map(([k, s]) => withSession({ type: 'delete', key: k } as const, s)),
    fc
      .tuple(key, casExpect, fc.option(anyValue, { nil: null }), maybeSession)
      .map(([k, expect, value, s]) => withSession({ type: 'cas', key: k, expect, value } as const, s)),
    key.map((k) => ({ type: 'get', key: k }) as const),
    fc
      .tuple(scanRange, fc.integer({ min: 1, max: 10_000 }), fc.option(key, { nil: undefined }))
      .map(([range, limit, after]) =>
        after === undefined
          ? ({ type: 'scan', range, limit } as const)
          : ({ type: 'scan', range, limit, after } as const),
      ),
    fc.constant({ type: 'registerSession' } as const),
    clientId.map((id) => ({ type: 'keepAlive', clientId: id }) as const),
    clientId.map((id) => ({ type: 'closeSession', clientId: id }) as const),
  );
}

/**
 * Commands that exercise a store's state: keys from a small alphabet, sessions with small ids and
 * sequence numbers (so retries, stale sequences and expiry all happen), each after a time step.
 */
export function stateOps(maxLength = 120): fc.Arbitrary<[number, KvCommand][]> {
  const smallSession = fc.option(
    fc.record({ clientId: fc.integer({ min: 1, max: 6 }), seq: fc.integer({ min: 1, max: 6 }) }),
    { nil: undefined, freq: 2 },
  );
  const smallValue = fc.uint8Array({ maxLength: 3, min: 0x30, max: 0x32 });
  const cmd: fc.Arbitrary<KvCommand> = fc.oneof(
    fc
      .tuple(smallKey, smallValue, smallSession)
      .map(([key, value, s]) => withSession({ type: 'put', key, value } as const, s)),
    fc.tuple(smallKey, smallSession).map(([key, s]) => withSession({ type: 'delete', key } as const, s)),
    fc
      .tuple(
        smallKey,
        fc.oneof(
          fc.record({ version: fc.integer({ min: 0, max: 3 }) }),
          fc.record({ value: fc.option(smallValue, { nil: null }) }),
        ),
        fc.option(smallValue, { nil: null }),
        smallSession,
      )
      .map(([key, expect, value, s]) => withSession({ type: 'cas', key, expect, value } as const, s)),
    smallKey.map((key) => ({ type: 'get', key }) as const),
    fc
      .tuple(fc.uint8Array({ maxLength: 1, min: 0x61, max: 0x64 }), fc.integer({ min: 1, max: 5 }))
      .map(([prefix, limit]) => ({ type: 'scan', range: { prefix }, limit }) as const),
    fc.constant({ type: 'registerSession' } as const),
    fc.integer({ min: 1, max: 8 }).map((clientId) => ({ type: 'keepAlive', clientId }) as const),
    fc.integer({ min: 1, max: 8 }).map((clientId) => ({ type: 'closeSession', clientId }) as const),
  );
  // The first five entries register sessions 1-5, so most session references name a real one.
  const register: [number, KvCommand] = [0, { type: 'registerSession' }];
  return fc
    .array(fc.tuple(fc.integer({ min: 0, max: 100 }), cmd), { minLength: maxLength >> 2, maxLength })
    .map((ops) => [register, register, register, register, register, ...ops]);
}

/** Applies timed ops to a harness (time steps accumulate), returning every result. */
export function run(h: Harness, ops: readonly [number, KvCommand][]): KvResult[] {
  return ops.map(([dt, command]) => {
    h.advance(dt);
    return h.apply(command);
  });
}

const kvArb = fc.record({
  key: anyKey,
  value: fc.uint8Array({ maxLength: 32 }),
  version: fc.integer({ min: 1, max: 1e9 }),
  createRevision: fc.integer({ min: 1, max: 1e9 }),
  modRevision: fc.integer({ min: 1e9, max: 2e9 }),
});
const rev = fc.maxSafeNat();
/** Every kind of result, with arbitrary fields. */
export const resultArb: fc.Arbitrary<KvResult> = fc.oneof(
  fc.record({
    ok: fc.constant(true as const),
    type: fc.constant('put' as const),
    revision: rev,
    version: rev,
  }),
  fc.record({
    ok: fc.constant(true as const),
    type: fc.constant('cas' as const),
    revision: rev,
    version: rev,
  }),
  fc.record({
    ok: fc.constant(true as const),
    type: fc.constant('delete' as const),
    revision: rev,
    deleted: fc.boolean(),
  }),
  fc.record({
    ok: fc.constant(true as const),
    type: fc.constant('get' as const),
    revision: rev,
    kv: fc.option(kvArb, { nil: null }),
  }),
  fc.record({
    ok: fc.constant(true as const),
    type: fc.constant('scan' as const),
    revision: rev,
    items: fc.array(kvArb, { maxLength: 5 }),
    more: fc.boolean(),
  }),
  fc.record({
    ok: fc.constant(true as const),
    type: fc.constant('registerSession' as const),
    clientId: rev,
  }),
  fc.constant({ ok: true as const, type: 'keepAlive' as const }),
  fc.constant({ ok: true as const, type: 'closeSession' as const }),
  fc.record({
    ok: fc.constant(false as const),
    code: fc.constant('compare-failed' as const),
    message: fc.string({ maxLength: 40 }),
    revision: rev,
    current: fc.option(kvArb, { nil: null }),
  }),
  fc.record({
    ok: fc.constant(false as const),
    code: fc.constantFrom('unknown-session', 'session-expired', 'stale-sequence', 'invalid-command' as const),
    message: fc.string({ unit: 'grapheme', maxLength: 40 }),
  }),
);
