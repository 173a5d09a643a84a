/**
 * Bit rot: flip random bytes in a copy of a closed log, in every region (segment headers, record
 * headers, payloads, padding, the zeroed tail, older segments). Opening must either succeed with
 * exactly a valid prefix of the log (only when the damage is in the last segment: a torn tail) or
 * refuse with KEEL_WAL_CORRUPT. It must never return a wrong entry.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORD_HEADER_SIZE } from '../src/format.js';
import { openLog, type WalError } from '../src/index.js';
import { mkEntries, payload, sameBytes, tempDir } from './helpers.js';

const LONG = process.env.KEEL_LONG === '1';
const TRIALS = LONG ? 3000 : 300;
const SEGMENT = 4096;

let root: { dir: string; cleanup: () => Promise<void> };
let files: Array<{ name: string; data: Buffer; recordStarts: number[] }>;
let expected: Map<number, number>;
let lastIndex: number;

function durable(
  log: Awaited<ReturnType<typeof openLog>>,
  lo: number,
  hi: number,
  term: number,
  size: number,
) {
  return new Promise<void>((res, rej) =>
    log.append(mkEntries(lo, hi, term, size), { term, vote: 'n1', commit: lo - 1 }, (e) =>
      e ? rej(e) : res(),
    ),
  );
}

beforeAll(async () => {
  root = await tempDir('keel-corrupt-');
  const dir = join(root.dir, 'orig');
  const log = await openLog(dir, { segmentSize: SEGMENT });
  await durable(log, 1, 30, 1, 150);
  await durable(log, 25, 40, 2, 200);
  await durable(log, 40, 50, 2, 7);
  await log.close();
  lastIndex = 49;
  expected = new Map();
  for (let i = 1; i <= 49; i++) expected.set(i, i < 25 ? 1 : 2);
  files = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort()) {
    const data = readFileSync(join(dir, name));
    // Where records start, for aiming flips at record headers.
    const recordStarts: number[] = [];
    let off = 32;
    while (off + RECORD_HEADER_SIZE <= data.length && data[off + 8] !== 0) {
      recordStarts.push(off);
      off += RECORD_HEADER_SIZE + ((data.readUInt32LE(off) + 7) & ~7);
    }
    files.push({ name, data, recordStarts });
  }
});

afterAll(() => root.cleanup());

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

describe('random corruption', () => {
  it('the fixture spans several segments', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it(`never returns a wrong entry (${TRIALS} trials)`, async () => {
    const rand = rng(42);
    const outcomes = { intact: 0, prefix: 0, refused: 0 };
    const dir = join(root.dir, 'trial');
    for (let t = 0; t < TRIALS; t++) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir);
      const target = rand(files.length);
      const isLast = target === files.length - 1;
      for (const [k, f] of files.entries()) {
        const data = Buffer.from(f.data);
        if (k === target) {
          const flips = 1 + rand(3);
          for (let j = 0; j < flips; j++) {
            const region = rand(4);
            let at: number;
            if (region === 0)
              at = rand(32); // segment header
            else if (region === 1 && f.recordStarts.length > 0) {
              at = f.recordStarts[rand(f.recordStarts.length)]! + rand(RECORD_HEADER_SIZE); // record header
            } else if (region === 2) {
              at = 32 + rand(Math.max(1, (f.recordStarts.at(-1) ?? 64) + 64 - 32)); // records and payloads
            } else at = rand(data.length); // anywhere, mostly the zeroed tail
            data[at] = (data[at]! ^ (1 + rand(255))) & 0xff;
          }
        }
        writeFileSync(join(dir, f.name), data);
      }
      let log: Awaited<ReturnType<typeof openLog>> | null = null;
      try {
        log = await openLog(dir, { segmentSize: SEGMENT });
      } catch (err) {
        expect((err as WalError).code, String(err)).toBe('KEEL_WAL_CORRUPT');
        expect((err as Error).message).toContain(dir);
        outcomes.refused++;
        continue;
      }
      try {
        expect(log.firstIndex()).toBe(1);
        const last = log.lastIndex();
        expect(last).toBeLessThanOrEqual(lastIndex);
        // Losing entries is only acceptable as a torn tail of the newest segment.
        if (last < lastIndex) expect(isLast, `trial ${t}: entries lost from an older segment`).toBe(true);
        for (const e of log.entries(1, last + 1, Number.POSITIVE_INFINITY)) {
          expect(e.term, `trial ${t} index ${e.index}`).toBe(expected.get(e.index));
          expect(sameBytes(e.data, payload(e.index, e.term, e.data.length))).toBe(true);
        }
        if (last === lastIndex) outcomes.intact++;
        else outcomes.prefix++;
      } finally {
        await log.close();
      }
    }
    // Each outcome happens: the flips reach places that matter and places that do not.
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.intact).toBeGreaterThan(0);
  }, 120_000);
});
