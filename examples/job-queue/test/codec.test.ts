import { describe, expect, it } from 'vitest';
import {
  type Command,
  decodeCommand,
  decodeResult,
  encodeCommand,
  encodeResult,
  type JobResult,
  Limits,
} from '../src/index.js';
import { bytes, prng } from './helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const commands: Command[] = [
  { kind: 'enqueue', at: 1_764_750_000_000, payload: bytes('send-mail:42') },
  { kind: 'enqueue', at: 0, payload: new Uint8Array(0) },
  { kind: 'claim', at: 12.5, worker: 'wörker-1', leaseMs: 30_000 },
  { kind: 'ack', at: 3, leaseId: 2 ** 40 },
  { kind: 'nack', at: -1, leaseId: 0 },
  { kind: 'tick', at: 99 },
];

const results: JobResult[] = [
  { kind: 'enqueued', jobId: 7 },
  { kind: 'claimed', job: { id: 7, attempt: 2, payload: bytes('x') }, leaseId: 300, deadline: 1e12 },
  { kind: 'acked', jobId: 7 },
  { kind: 'nacked', jobId: 8 },
  { kind: 'ticked', now: 123.25 },
  { kind: 'refused', reason: 'empty' },
  { kind: 'refused', reason: 'lease-lost' },
  { kind: 'refused', reason: 'bad-command' },
];

describe('job queue codec', () => {
  it('round-trips every command and result', () => {
    for (const c of commands) expect(decodeCommand(encodeCommand(c))).toEqual(c);
    for (const r of results) expect(decodeResult(encodeResult(r))).toEqual(r);
  });

  it('golden bytes: the log format does not drift unnoticed', () => {
    expect(hex(encodeCommand({ kind: 'ack', at: 1, leaseId: 300 }))).toBe('01033ff0000000000000ac02');
    expect(hex(encodeCommand({ kind: 'enqueue', at: 0, payload: bytes('hi') }))).toBe(
      '0101000000000000000002' + '6869',
    );
    expect(hex(encodeResult({ kind: 'refused', reason: 'lease-lost' }))).toBe('010601');
  });

  it('refuses truncated, padded, unknown and out-of-limit input with a JobQueueDecodeError', () => {
    const good = encodeCommand(commands[2]!);
    const bad = [
      good.subarray(0, good.length - 1),
      new Uint8Array([...good, 0]),
      new Uint8Array([2, ...good.subarray(1)]),
      new Uint8Array([1, 77, ...good.subarray(2)]),
      encodeCommand({ kind: 'claim', at: 0, worker: 'w', leaseMs: Limits.leaseMs + 1 }),
      encodeCommand({ kind: 'claim', at: 0, worker: 'w', leaseMs: 0 }),
      encodeCommand({ kind: 'tick', at: Number.NaN }),
    ];
    for (const b of bad)
      expect(() => decodeCommand(b)).toThrow(expect.objectContaining({ code: 'JOBQ_DECODE' }));
  });

  it('survives 20,000 mutated frames: a decode error or a valid command, nothing else', () => {
    const rnd = prng(7);
    const frames = commands.map(encodeCommand);
    for (let i = 0; i < 20_000; i++) {
      const f = frames[i % frames.length]!.slice();
      const flips = 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < flips; k++) f[Math.floor(rnd() * f.length)] = Math.floor(rnd() * 256);
      const cut = rnd() < 0.2 ? f.subarray(0, Math.floor(rnd() * f.length)) : f;
      let c: Command | null = null;
      try {
        c = decodeCommand(cut);
      } catch (err) {
        expect(err).toMatchObject({ code: 'JOBQ_DECODE' });
      }
      // Whatever decodes must encode back to the very same bytes (one encoding per command).
      if (c !== null) expect(hex(encodeCommand(c))).toBe(hex(cut));
    }
  });
});
