import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  DecodeErrorReason,
  decodeBatch,
  encodeBatch,
  messageSizeBound,
  Reader,
  Writer,
} from '../src/codec/index.js';
import {
  type Entry,
  EntryType,
  type Message,
  MessageType,
  type NodeId,
  type SnapChunkMessage,
} from '../src/index.js';
import { INVALID_IDS, SPECIAL_VALID_IDS } from '../src/testing/index.js';
import { assertProperty } from './helpers/propertySeeds.js';

const nat = fc.maxSafeNat();
const small = fc.nat({ max: 1_000_000 });
const num = fc.oneof(small, nat);
const nodeId = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/), weight: 3 },
  { arbitrary: fc.constantFrom(...SPECIAL_VALID_IDS), weight: 1 },
);

const entry: fc.Arbitrary<Entry> = fc.record({
  index: num,
  term: num,
  type: fc.constantFrom(EntryType.Noop, EntryType.Normal, EntryType.Config),
  data: fc.uint8Array({ maxLength: 300 }),
});

/** A configuration: distinct members split into voters and learners, each with an address. */
const conf = fc
  .tuple(
    fc.uniqueArray(nodeId, { maxLength: 6 }),
    fc.nat({ max: 6 }),
    fc.array(fc.string({ maxLength: 20 }), { minLength: 6, maxLength: 6 }),
  )
  .map(([ids, split, addrs]) => {
    const addresses = new Map(ids.map((id, i) => [id, addrs[i]!]));
    return { voters: ids.slice(0, split), learners: ids.slice(split), addresses };
  });
const meta = fc.record({ index: num, term: num, conf });

/** Any message body; `from`/`to` are filled in per frame. */
const body: fc.Arbitrary<Omit<Message, 'from' | 'to'>> = fc.oneof(
  fc.record({
    type: fc.constant(MessageType.App),
    term: num,
    prevIndex: num,
    prevTerm: num,
    commit: num,
    entries: fc.array(entry, { maxLength: 8 }),
  }),
  fc.record({
    type: fc.constant(MessageType.AppResp),
    term: num,
    index: num,
    reject: fc.boolean(),
    hintIndex: num,
    hintTerm: num,
  }),
  fc.record({
    type: fc.constantFrom(MessageType.Vote, MessageType.PreVote),
    term: num,
    lastIndex: num,
    lastTerm: num,
    transfer: fc.boolean(),
  }),
  fc.record({
    type: fc.constantFrom(MessageType.VoteResp, MessageType.PreVoteResp),
    term: num,
    reject: fc.boolean(),
  }),
  fc.record({ type: fc.constant(MessageType.Heartbeat), term: num, commit: num, context: num }),
  fc.record({ type: fc.constant(MessageType.HeartbeatResp), term: num, context: num }),
  fc.record({ type: fc.constant(MessageType.TimeoutNow), term: num }),
  fc.record({ type: fc.constant(MessageType.ReadIndex), term: num, context: num }),
  fc.record({
    type: fc.constant(MessageType.ReadIndexResp),
    term: num,
    context: num,
    index: num,
    reject: fc.boolean(),
  }),
  fc.record({ type: fc.constant(MessageType.Snapshot), term: num, meta }),
  fc
    .record({ term: num, meta, offset: num, data: fc.uint8Array({ maxLength: 300 }), extra: small })
    .filter((c) => c.offset + c.data.length + c.extra <= Number.MAX_SAFE_INTEGER)
    .map((c) => ({
      type: MessageType.SnapChunk,
      term: c.term,
      meta: c.meta,
      offset: c.offset,
      total: c.offset + c.data.length + c.extra,
      data: c.data,
    })),
  fc.record({
    type: fc.constant(MessageType.SnapAck),
    term: num,
    index: num,
    snapTerm: num,
    next: num,
    reject: fc.boolean(),
  }),
);

const batch = fc
  .tuple(nodeId, nodeId, fc.array(body, { minLength: 1, maxLength: 10 }))
  .map(([from, to, bodies]) => bodies.map((b) => ({ ...b, from, to }) as Message));

function chunkWithConf(
  voters: readonly NodeId[],
  learners: readonly NodeId[],
  addresses: ReadonlyMap<NodeId, string>,
): SnapChunkMessage {
  return {
    type: MessageType.SnapChunk,
    from: 'a',
    to: 'b',
    term: 1,
    meta: { index: 3, term: 1, conf: { voters, learners, addresses } },
    offset: 0,
    total: 0,
    data: new Uint8Array(0),
  };
}

/**
 * A valid snapChunk frame with one id replaced by `id`'s raw bytes (UTF-8, any length): as the
 * sender, the receiver, or the configuration's only learner.
 */
function frameWithRawId(id: string, where: 'from' | 'to' | 'member'): Uint8Array {
  const placeholder = 'Q'.repeat(9);
  const m = chunkWithConf([], [placeholder], new Map([[placeholder, '']]));
  const frame = Buffer.from(
    encodeBatch([
      { ...m, ...(where === 'from' ? { from: placeholder } : where === 'to' ? { to: placeholder } : {}) },
    ]),
  );
  const at = frame.indexOf(placeholder, where === 'member' ? frame.lastIndexOf(placeholder) : 0);
  const raw = Buffer.from(id, 'utf8');
  const len = Buffer.from([raw.length & 0xff]);
  return Buffer.concat([frame.subarray(0, at - 1), len, raw, frame.subarray(at + placeholder.length)]);
}

const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

describe('codec properties', () => {
  it('decode(encode(batch)) is the batch, for every message type and value range', () => {
    assertProperty(
      fc.property(batch, (messages) => {
        expect(decodeBatch(encodeBatch(messages))).toEqual(messages);
      }),
      { numRuns: 500 },
    );
  });

  it('encoding is canonical: re-encoding a decoded frame gives the same bytes', () => {
    assertProperty(
      fc.property(batch, (messages) => {
        const frame = encodeBatch(messages).slice();
        expect(encodeBatch(decodeBatch(frame))).toEqual(frame);
      }),
      { numRuns: 250 },
    );
  });

  it('member ids that name Object.prototype members (constructor, toString, ...) are ordinary ids', () => {
    // Found by the property above (seed 1350178720): a learner named __proto__ made the encoder
    // read Object.prototype as its address.
    const learners = SPECIAL_VALID_IDS.filter((id) => id !== 'constructor');
    const addresses = new Map<NodeId, string>([['constructor', 'tcp://c:1']]);
    for (const id of learners) addresses.set(id, '');
    const m = chunkWithConf(['constructor'], learners, addresses);
    const [back] = decodeBatch(encodeBatch([m])) as SnapChunkMessage[];
    expect(back).toEqual(m);
    expect(back!.meta.conf.addresses.get('constructor')).toBe('tcp://c:1');
    expect(back!.meta.conf.addresses.get('toString')).toBe('');
  });

  it('regression, seed 1968231919: a snapshot configuration with a learner named __proto__ is refused', () => {
    // Path 8:0:0:0:0:0:0:45:44:44:44:44:44:44:44:44:44:44 (before ids had one rule): this snapChunk
    // decoded into a configuration whose addresses were no longer {}. __proto__ (and '_') are no
    // member ids now: the encoder refuses them, and the frame, built by hand, is rejected whole.
    const counterexample: SnapChunkMessage = {
      type: MessageType.SnapChunk,
      term: 0,
      meta: { index: 0, term: 0, conf: { voters: [], learners: ['__proto__'], addresses: new Map() } },
      offset: 0,
      total: 0,
      data: new Uint8Array(0),
      from: 'A',
      to: '_',
    };
    expect(() => encodeBatch([counterexample])).toThrow(/invalid member id "_"/);
    expect(() => encodeBatch([{ ...counterexample, to: 'B' }])).toThrow(/invalid member id "__proto__"/);
    const proto = Buffer.from('__proto__').toString('hex');
    for (const to of ['5f', '42']) {
      // header, from "A", to "_" or "B", 1 message: snapChunk, term 0, index 0, term 0, no voters,
      // one learner "__proto__" with address "", offset 0, total 0, no data.
      const frame = unhex(`0101 0141 01${to} 01 0d 00 00 00 00 01 09${proto} 00 00 00 00`);
      expect(() => decodeBatch(frame)).toThrow(
        expect.objectContaining({ reason: DecodeErrorReason.InvalidMemberId, code: 'KEEL_DECODE_FAILED' }),
      );
    }
    // The same frame with a valid learner decodes: the rejection is the id's, nothing else.
    const ok = unhex(
      `0101 0141 0142 01 0d 00 00 00 00 01 09${Buffer.from('a_proto__').toString('hex')} 00 00 00 00`,
    );
    expect(decodeBatch(ok)).toEqual([
      {
        ...counterexample,
        to: 'B',
        meta: {
          index: 0,
          term: 0,
          conf: { voters: [], learners: ['a_proto__'], addresses: new Map([['a_proto__', '']]) },
        },
      },
    ]);
  });

  it('a frame whose sender, receiver or member id is invalid is rejected with reason invalid-member-id', () => {
    for (const id of INVALID_IDS) {
      for (const where of ['from', 'to', 'member'] as const) {
        const frame = frameWithRawId(id, where);
        let err: unknown;
        try {
          decodeBatch(frame);
        } catch (e) {
          err = e;
        }
        expect(err, `${where} ${JSON.stringify(id)}`).toBeInstanceOf(DecodeError);
        expect((err as DecodeError).reason, `${where} ${JSON.stringify(id)}`).toBe(
          DecodeErrorReason.InvalidMemberId,
        );
      }
    }
  });

  it('messageSizeBound bounds every message inside its frame', () => {
    assertProperty(
      fc.property(batch, (messages) => {
        const single = encodeBatch(messages.slice(0, 1));
        const header = 2 + 2 + messages[0]!.from.length + messages[0]!.to.length + 1;
        expect(single.length - header).toBeLessThanOrEqual(messageSizeBound(messages[0]!));
      }),
      { numRuns: 250 },
    );
  });

  it('every strict prefix of a frame is rejected with a DecodeError', () => {
    assertProperty(
      fc.property(batch, fc.nat(), (messages, cut) => {
        const frame = encodeBatch(messages);
        const prefix = frame.subarray(0, cut % frame.length);
        expect(() => decodeBatch(prefix)).toThrow(DecodeError);
      }),
      { numRuns: 250 },
    );
  });

  it('varints round-trip through Writer and Reader', () => {
    assertProperty(
      fc.property(fc.array(nat, { maxLength: 50 }), (values) => {
        const w = new Writer(16);
        for (const v of values) w.varint(v);
        const r = new Reader(w.finish());
        for (const v of values) expect(r.varint()).toBe(v);
        r.done();
      }),
    );
  });
});
