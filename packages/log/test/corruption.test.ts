/**
 * Bit rot: flip random bytes in a copy of a closed log, in every region (segment headers, record
 * headers, payloads, padding, the zeroed tail, older segments, and the stale records of recycled
 * segment files). Opening must either succeed with exactly a valid prefix of the log (only when
 * the damage is in the last segment: a torn tail) or refuse with KEEL_WAL_CORRUPT. It must never
 * return a wrong entry. Two logs: one that only grew, one compacted whose newer segments live in
 * recycled files.
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

interface Fixture {
  readonly files: Array<{ name: string; data: Buffer; recordStarts: number[] }>;
  readonly expected: Map<number, number>;
  readonly firstIndex: number;
  readonly lastIndex: number;
}
const fixtures: Fixture[] = [];
let staleTail = false;

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

async function capture(dir: string, firstIndex: number, lastIndex: number, term: (i: number) => number) {
  const expected = new Map<number, number>();
  for (let i = firstIndex; i <= lastIndex; i++) expected.set(i, term(i));
  const files: Fixture['files'] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort()) {
    const data = readFileSync(join(dir, name));
    // Where records start, for aiming flips at record headers (in a recycled file this walks on
    // into the stale records, which are worth hitting too).
    const recordStarts: number[] = [];
    let off = 32;
    while (off + RECORD_HEADER_SIZE <= data.length && data[off + 8] !== 0) {
      recordStarts.push(off);
      off += RECORD_HEADER_SIZE + ((data.readUInt32LE(off) + 7) & ~7);
    }
    files.push({ name, data, recordStarts });
  }
  fixtures.push({ files, expected, firstIndex, lastIndex });
}

beforeAll(async () => {
  root = await tempDir('keel-corrupt-');
  const grown = join(root.dir, 'grown');
  const log = await openLog(grown, { segmentSize: SEGMENT });
  await durable(log, 1, 30, 1, 150);
  await durable(log, 25, 40, 2, 200);
  await durable(log, 40, 50, 2, 7);
  await log.close();
  await capture(grown, 1, 49, (i) => (i < 25 ? 1 : 2));

  const recycled = join(root.dir, 'recycled');
  const r = await openLog(recycled, { segmentSize: SEGMENT });
  await durable(r, 1, 120, 1, 150);
  await r.compact(100, 1);
  // Enough for three rotations: the file zero-filled before the compaction, then both recycled ones.
  await durable(r, 115, 200, 2, 100);
  await durable(r, 200, 205, 2, 7);
  expect(r.metrics.segmentsRecycled).toBeGreaterThan(0);
  const tail = r.syncState().at(-1)!;
  await r.close();
  // The newest segment is a recycled file: past its records lie the old segment's records.
  staleTail = readFileSync(tail.file)
    .subarray(tail.writeEnd)
    .some((b) => b !== 0);
  await capture(recycled, 101, 204, (i) => (i < 115 ? 1 : 2));
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
  it('the fixtures span several segments', () => {
    for (const f of fixtures) expect(f.files.length).toBeGreaterThanOrEqual(3);
    expect(staleTail).toBe(true);
  });

  it(`never returns a wrong entry (${TRIALS} trials)`, async () => {
    const rand = rng(42);
    const outcomes = { intact: 0, prefix: 0, refused: 0 };
    const dir = join(root.dir, 'trial');
    for (let t = 0; t < TRIALS; t++) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir);
      const { files, expected, firstIndex, lastIndex } = fixtures[t % fixtures.length]!;
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
            } else at = rand(data.length); // anywhere, mostly the tail (zeros or stale records)
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
        expect(log.firstIndex()).toBe(firstIndex);
        const last = log.lastIndex();
        expect(last).toBeLessThanOrEqual(lastIndex);
        // Losing entries is only acceptable as a torn tail of the newest segment.
        if (last < lastIndex) expect(isLast, `trial ${t}: entries lost from an older segment`).toBe(true);
        for (const e of log.entries(firstIndex, last + 1, Number.POSITIVE_INFINITY)) {
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
