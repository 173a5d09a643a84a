/**
 * Power-loss emulation: while appends (and compactions) are in flight, copy the log's files and,
 * using the store's record of what was fdatasync'ed, throw away or scribble on everything that was
 * not (and drop files whose directory entry was never made durable). What was never synced reverts
 * to what the file held before: zeros, or — in a segment file recycled after a compaction — the
 * stale records of the segment it used to be. Reopening the copy must return every entry that was
 * acknowledged before the copy, intact. Unacknowledged entries may or may not survive.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Entry, HardState } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { openLog } from '../src/index.js';
import { mkEntries, payload, sameBytes, tempDir } from './helpers.js';

const LONG = process.env.KEEL_LONG === '1';
const ROUNDS = LONG ? 1000 : 100;

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

interface Op {
  readonly entries: readonly Entry[];
  readonly hardState: HardState | null;
}

/**
 * Records reach the disk in the order they were appended, so what survives is the state after
 * some prefix of the appends, k of them with k >= the acknowledged ones, plus possibly the first
 * entries of append k + 1 (its truncation included). `terms` are the recovered terms of indexes
 * offset + 1, offset + 2, ... (offset: what a compaction dropped). Returns the k that explains
 * them, or -1.
 */
function explain(ops: readonly Op[], acked: number, terms: readonly number[], offset: number): number {
  const state: number[] = [];
  const applyOp = (op: Op) => {
    if (op.entries.length === 0) return;
    state.length = op.entries[0]!.index - 1;
    for (const e of op.entries) state.push(e.term);
  };
  for (let k = 0; k <= ops.length; k++) {
    if (k >= acked) {
      if (state.length === offset + terms.length && terms.every((t, i) => state[offset + i] === t)) return k;
      const next = ops[k];
      if (next !== undefined && next.entries.length > 0) {
        const f = next.entries[0]!.index - 1;
        const m = offset + terms.length - f;
        if (
          f >= offset &&
          m >= 1 &&
          m <= next.entries.length &&
          f <= state.length &&
          terms.slice(0, f - offset).every((t, i) => state[offset + i] === t) &&
          terms.slice(f - offset).every((t, i) => next.entries[i]!.term === t)
        ) {
          return k;
        }
      }
    }
    if (k < ops.length) applyOp(ops[k]!);
  }
  return -1;
}

describe('power loss', () => {
  it(`keeps every acknowledged entry when unsynced data is lost or scribbled (${ROUNDS} rounds)`, async () => {
    const { dir: root, cleanup } = await tempDir('keel-power-');
    // How often the interesting cases came up: a loss with recycled segment files in play, and a
    // recovery that starts after a compaction.
    let recycledRounds = 0;
    let compactedRecoveries = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const rand = rng(round * 7919 + 17);
        const dir = join(root, `r${round}`);
        const copy = join(root, `r${round}-copy`);
        const segmentSize = [2048, 4096, 16384][rand(3)]!;
        const log = await openLog(dir, { segmentSize, preallocate: rand(2) === 0 });
        const ops: Op[] = [];
        let acked = 0;
        let ackedHardTerm = 0;
        let term = 1;
        let last = 0;
        const bursts = 1 + rand(12);
        let pending: Promise<void> = Promise.resolve();
        /** Terms of the log as appended so far (index i at [i - 1]), to compact at a real term. */
        const model: number[] = [];
        const compactions: number[] = [];
        const compacting: Array<Promise<void>> = [];
        for (let b = 0; b < bursts; b++) {
          const appends = 1 + rand(6);
          for (let a = 0; a < appends; a++) {
            let from = last + 1;
            if (last > 3 && rand(6) === 0) {
              term++;
              from = last - rand(Math.min(last, 6)) + 1;
            }
            const n = 1 + rand(12);
            const es = mkEntries(from, from + n, term, 8 + rand(300));
            const hs =
              rand(3) === 0 ? { term, vote: rand(2) ? 'n1' : null, commit: Math.max(0, from - 2) } : null;
            last = from + n - 1;
            model.length = from - 1;
            for (const e of es) model.push(e.term);
            ops.push({ entries: es, hardState: hs });
            pending = new Promise<void>((res, rej) =>
              log.append(es, hs, (err) => {
                if (err) rej(err);
                else {
                  acked++;
                  if (hs) ackedHardTerm = hs.term;
                  res();
                }
              }),
            );
          }
          if (rand(2) === 0) await pending;
          // Now and then a snapshot: compact well behind the end (later appends truncate at most 6
          // back), freeing segments that the next rotations recycle.
          const upTo = last - 8 - rand(8);
          if (rand(3) === 0 && upTo > (compactions.at(-1) ?? 0)) {
            compactions.push(upTo);
            compacting.push(log.compact(upTo, model[upTo - 1]!));
          }
        }
        mkdirSync(copy);
        // The power goes out now, with whatever is in flight.
        const state = log.syncState();
        const ackedAtLoss = acked;
        if (log.metrics.segmentsRecycled > 0) recycledRounds++;
        const hardTermAtLoss = ackedHardTerm;
        // Synchronously, so the flush loop cannot move on between the snapshot of what was synced
        // and the copy. Files that did not exist at the snapshot are not copied: their directory
        // entries were not durable. (Writes in flight on the thread pool only touch unsynced bytes.)
        for (const s of state) {
          if (existsSync(s.file)) writeFileSync(join(copy, basename(s.file)), readFileSync(s.file));
        }
        await Promise.all(compacting);
        await log.close();

        for (const s of state) {
          const file = join(copy, basename(s.file));
          // A segment still waiting for its first write had no file yet.
          if (!existsSync(file)) continue;
          if (!s.nameDurable && rand(2) === 0) {
            writeFileSync(file, Buffer.alloc(0));
            continue;
          }
          const buf = readFileSync(file);
          const from = Math.min(s.syncedBytes, buf.length);
          const end = Math.min(Math.max(s.writeEnd, from), buf.length);
          // In-order persistence of part of the unsynced tail, then garbage, then what the file
          // held before (approximated by zeros up to where this segment wrote; past that, the
          // file's real old contents: zeros, or a recycled file's stale records).
          const kept = rand(3) === 0 ? rand(end - from + 1) : 0;
          const garbage = rand(2) === 0 ? rand(200) : 0;
          const g0 = from + kept;
          for (let i = g0; i < Math.min(buf.length, g0 + garbage); i++) buf[i] = rand(256);
          if (g0 + garbage < end) buf.fill(0, g0 + garbage, end);
          writeFileSync(file, buf);
        }
        // A file truncated to nothing stands for a directory entry that was lost with the power.
        for (const name of await readdir(copy)) {
          if (readFileSync(join(copy, name)).length === 0) {
            const { rm } = await import('node:fs/promises');
            await rm(join(copy, name));
          }
        }

        const back = await openLog(copy, { segmentSize });
        try {
          const first = back.firstIndex();
          if (first > 1) compactedRecoveries++;
          expect([1, ...compactions.map((c) => c + 1)]).toContain(first);
          const got = back.entries(first, back.lastIndex() + 1, Number.POSITIVE_INFINITY);
          for (const e of got) expect(sameBytes(e.data, payload(e.index, e.term, e.data.length))).toBe(true);
          const k = explain(
            ops,
            ackedAtLoss,
            got.map((e) => e.term),
            first - 1,
          );
          expect(
            k,
            `round ${round}: recovered log is not an acknowledged prefix of the appends`,
          ).toBeGreaterThanOrEqual(ackedAtLoss);
          expect(back.initialState().hardState.term).toBeGreaterThanOrEqual(hardTermAtLoss);
        } finally {
          await back.close();
        }
      }
      console.log(
        `power loss: ${recycledRounds} rounds with recycled segments, ${compactedRecoveries} recoveries after a compaction`,
      );
      expect(recycledRounds).toBeGreaterThan(ROUNDS / 20);
      expect(compactedRecoveries).toBeGreaterThan(ROUNDS / 20);
    } finally {
      await cleanup();
    }
  }, 180_000);
});
