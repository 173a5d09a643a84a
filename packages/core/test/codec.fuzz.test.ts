import { describe, expect, it } from 'vitest';
import {
  type CodecLimits,
  DecodeError,
  DecodeErrorReason,
  decodeBatch,
  encodeBatch,
} from '../src/codec/index.js';
import { EntryType, type Message, MessageType } from '../src/index.js';

/** xorshift32: fast, seeded, reproducible; fast-check is too slow for a million frames. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const FRAMES = 1_000_000;
const LIMITS: CodecLimits = { maxFrameBytes: 4096, maxMessagesPerFrame: 64, maxEntriesPerMessage: 16 };

function seeds(): Uint8Array[] {
  const e = (index: number, size: number) => ({
    index,
    term: 3,
    type: EntryType.Normal,
    data: new Uint8Array(size).fill(index),
  });
  const msgs: Message[] = [
    { type: MessageType.Heartbeat, from: 'n1', to: 'n2', term: 5, commit: 10, context: 1 },
    { type: MessageType.HeartbeatResp, from: 'n1', to: 'n2', term: 5, context: 1 },
    {
      type: MessageType.App,
      from: 'n1',
      to: 'n2',
      term: 3,
      prevIndex: 130,
      prevTerm: 2,
      commit: 129,
      entries: [e(131, 3), e(132, 0), e(133, 40)],
    },
    {
      type: MessageType.AppResp,
      from: 'n1',
      to: 'n2',
      term: 3,
      index: 2,
      reject: true,
      hintIndex: 1,
      hintTerm: 1,
    },
    { type: MessageType.Vote, from: 'n1', to: 'n2', term: 9, lastIndex: 99, lastTerm: 8, transfer: false },
    { type: MessageType.PreVoteResp, from: 'n1', to: 'n2', term: 9, reject: false },
    { type: MessageType.TimeoutNow, from: 'n1', to: 'n2', term: 2 },
    { type: MessageType.ReadIndex, from: 'n1', to: 'n2', term: 2, context: 2 ** 40 },
    { type: MessageType.ReadIndexResp, from: 'n1', to: 'n2', term: 2, context: 7, index: 300, reject: false },
  ];
  const frames = msgs.map((m) => encodeBatch([m]).slice());
  frames.push(encodeBatch(msgs).slice());
  // Ids special to JavaScript (issue #22): valid ones that name Object.prototype members, in the
  // header and in a snapshot configuration; and the same frames with an id made __proto__, which
  // no decoder may accept (an accepted frame is re-encoded below, and the encoder refuses it).
  const special: Message[] = [
    {
      type: MessageType.Heartbeat,
      from: 'constructor',
      to: 'hasOwnProperty',
      term: 5,
      commit: 10,
      context: 1,
    },
    {
      type: MessageType.SnapChunk,
      from: 'toString',
      to: 'valueOf',
      term: 4,
      meta: {
        index: 70,
        term: 4,
        conf: {
          voters: ['prototype', 'toString'],
          learners: ['valueOf'],
          addresses: new Map([
            ['prototype', 'tcp://p:1'],
            ['toString', ''],
            ['valueOf', 'ü'],
          ]),
        },
      },
      offset: 0,
      total: 3,
      data: new Uint8Array([1, 2, 3]),
    },
  ];
  for (const m of special) {
    const frame = encodeBatch([m]).slice();
    frames.push(frame);
    // Swap the first id (the sender, after the 2-byte header) for __proto__.
    const idLength = frame[2]!;
    frames.push(
      Uint8Array.from([
        ...frame.subarray(0, 2),
        9,
        ...Buffer.from('__proto__'),
        ...frame.subarray(3 + idLength),
      ]),
    );
  }
  return frames;
}

describe('decoder under hostile input', () => {
  it(`rejects or canonically accepts ${FRAMES.toLocaleString('en')} random and mutated frames, never crashing`, () => {
    const next = rng(0x6b65656c);
    const corpus = seeds();
    const reasons = new Map<string, number>();
    let accepted = 0;
    const buf = new Uint8Array(LIMITS.maxFrameBytes + 64);

    for (let i = 0; i < FRAMES; i++) {
      let frame: Uint8Array;
      const mode = next() % 8;
      if (mode === 0) {
        // Pure noise, sometimes with a valid header so it gets past the first checks.
        const n = next() % 64;
        for (let j = 0; j < n; j++) buf[j] = next();
        if (n >= 2 && next() % 2 === 0) {
          buf[0] = 1;
          buf[1] = 1;
        }
        frame = buf.subarray(0, n);
      } else {
        const seed = corpus[next() % corpus.length]!;
        let n = seed.length;
        buf.set(seed);
        const edits = 1 + (next() % 4);
        for (let k = 0; k < edits; k++) {
          const op = next() % 6;
          const at = n === 0 ? 0 : next() % n;
          if (op <= 1)
            buf[at] = next(); // overwrite a byte
          else if (op === 2)
            buf[at] ^= 1 << (next() % 8); // flip a bit
          else if (op === 3)
            n = at; // truncate
          else if (op === 4 && n < buf.length - 8) {
            // insert bytes
            const count = 1 + (next() % 4);
            buf.copyWithin(at + count, at, n);
            for (let j = 0; j < count; j++) buf[at + j] = next();
            n += count;
          } else buf[at] = [0x00, 0x7f, 0x80, 0xff][next() % 4]!; // boundary values
        }
        frame = buf.subarray(0, n);
      }

      try {
        const messages = decodeBatch(frame, LIMITS);
        accepted++;
        // Whatever is accepted is within the limits and re-encodes to exactly the same bytes.
        expect(messages.length).toBeLessThanOrEqual(LIMITS.maxMessagesPerFrame);
        const again = encodeBatch(messages, LIMITS);
        if (again.length !== frame.length || !again.every((b, j) => b === frame[j])) {
          throw new Error(`non-canonical accept: ${Buffer.from(frame).toString('hex')}`);
        }
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        reasons.set(err.reason, (reasons.get(err.reason) ?? 0) + 1);
      }
    }

    const rejected = [...reasons.values()].reduce((a, b) => a + b, 0);
    expect(accepted + rejected).toBe(FRAMES);
    // The mutations reach every rejection path, and some mutants are still valid frames.
    for (const reason of Object.values(DecodeErrorReason)) {
      if (reason === DecodeErrorReason.Oversized) continue;
      expect(reasons.get(reason) ?? 0).toBeGreaterThan(0);
    }
    expect(accepted).toBeGreaterThan(1000);
  }, 120_000);

  it('rejects a frame above the limit before reading it', () => {
    const big = new Uint8Array(LIMITS.maxFrameBytes + 1);
    big[0] = 1;
    big[1] = 1;
    expect(() => decodeBatch(big, LIMITS)).toThrow(DecodeError);
  });
});
