import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  decodeBatch,
  type Entry,
  EntryType,
  encodeBatch,
  type Message,
  MessageType,
  messageSizeBound,
  Reader,
  Writer,
} from '../src/index.js';

const nat = fc.maxSafeNat();
const small = fc.nat({ max: 1_000_000 });
const num = fc.oneof(small, nat);
const nodeId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

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
    const addresses: Record<string, string> = {};
    ids.forEach((id, i) => {
      addresses[id] = addrs[i]!;
    });
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

describe('codec properties', () => {
  it('decode(encode(batch)) is the batch, for every message type and value range', () => {
    fc.assert(
      fc.property(batch, (messages) => {
        expect(decodeBatch(encodeBatch(messages))).toEqual(messages);
      }),
      { numRuns: 2000 },
    );
  });

  it('encoding is canonical: re-encoding a decoded frame gives the same bytes', () => {
    fc.assert(
      fc.property(batch, (messages) => {
        const frame = encodeBatch(messages).slice();
        expect(encodeBatch(decodeBatch(frame))).toEqual(frame);
      }),
      { numRuns: 1000 },
    );
  });

  it('member ids that name Object.prototype members (__proto__, constructor) are ordinary ids', () => {
    // Found by the property below (seed 1350178720): a learner named __proto__ made the encoder
    // read Object.prototype as its address.
    const m: Message = {
      type: 'snapChunk',
      from: 'a',
      to: 'b',
      term: 1,
      meta: { index: 3, term: 1, conf: { voters: ['constructor'], learners: ['__proto__'], addresses: {} } },
      offset: 0,
      total: 0,
      data: new Uint8Array(0),
    };
    const [back] = decodeBatch(encodeBatch([m]));
    expect((back as typeof m).meta.conf.voters).toEqual(['constructor']);
    expect((back as typeof m).meta.conf.learners).toEqual(['__proto__']);
  });

  it('messageSizeBound bounds every message inside its frame', () => {
    fc.assert(
      fc.property(batch, (messages) => {
        const single = encodeBatch(messages.slice(0, 1));
        const header = 2 + 2 + messages[0]!.from.length + messages[0]!.to.length + 1;
        expect(single.length - header).toBeLessThanOrEqual(messageSizeBound(messages[0]!));
      }),
      { numRuns: 1000 },
    );
  });

  it('every strict prefix of a frame is rejected with a DecodeError', () => {
    fc.assert(
      fc.property(batch, fc.nat(), (messages, cut) => {
        const frame = encodeBatch(messages);
        const prefix = frame.subarray(0, cut % frame.length);
        expect(() => decodeBatch(prefix)).toThrow(DecodeError);
      }),
      { numRuns: 1000 },
    );
  });

  it('varints round-trip through Writer and Reader', () => {
    fc.assert(
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
