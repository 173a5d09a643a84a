import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry, EntryType } from '@keel/core';
import { openLog, type WalLogStore } from '@keel/log';
import { afterEach, describe, expect, it } from 'vitest';
import { damageWal, type PublishedSyncState, writtenEnd } from '../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const entries = (lo: number, hi: number): Entry[] =>
  Array.from({ length: hi - lo }, (_v, k) => ({
    index: lo + k,
    term: 1,
    type: 1 as EntryType,
    data: new TextEncoder().encode(`entry ${lo + k} `.repeat(1 + ((lo + k) % 5))),
  }));

const append = (log: WalLogStore, es: Entry[]): Promise<void> =>
  new Promise((res, rej) =>
    log.append(es, { term: 1, vote: 'n1', commit: 0 }, (err) => (err ? rej(err) : res())),
  );

/**
 * A WAL with entries 1..acked durable and published, then entries up to `total` written after the
 * published state: what a member that was killed mid-batch leaves behind, as far as the published
 * sync state knows.
 */
async function walAfterKill(
  acked: number,
  total: number,
): Promise<{ dir: string; sync: PublishedSyncState }> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-chaos-wal-'));
  dirs.push(dir);
  const log = await openLog(dir, { segmentSize: 1 << 20 });
  await append(log, entries(1, acked + 1));
  const sync: PublishedSyncState = { pid: 4242, segments: log.syncState() };
  await append(log, entries(acked + 1, total + 1));
  await log.close();
  return { dir, sync };
}

async function survivors(dir: string): Promise<number> {
  const log = await openLog(dir, { segmentSize: 1 << 20 });
  try {
    const got = log.entries(1, log.lastIndex() + 1, Number.POSITIVE_INFINITY);
    for (const e of got)
      expect(Buffer.from(e.data).equals(Buffer.from(entries(e.index, e.index + 1)[0]!.data))).toBe(true);
    return log.lastIndex();
  } finally {
    await log.close();
  }
}

describe('WAL damage', () => {
  it('finds where the last record ends in a preallocated segment', async () => {
    const { dir, sync } = await walAfterKill(10, 20);
    const file = readdirSync(dir).find((f) => f.endsWith('.wal'))!;
    const bytes = new Uint8Array(readFileSync(join(dir, file)));
    const end = writtenEnd(bytes);
    expect(end).toBeGreaterThan(sync.segments[0]!.syncedBytes);
    expect(bytes.subarray(end, end + 64).every((b) => b === 0)).toBe(true);
  });

  it('power loss cuts back to the published fsync point: every acknowledged entry survives, nothing unsynced', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { dir, sync } = await walAfterKill(10, 25);
      const d = damageWal(dir, sync, 'power-loss', seed, 4242);
      expect(d.skipped).toBeNull();
      expect(d.cutAt).toBe(d.syncedBytes);
      expect(d.garbageBytes).toBeGreaterThan(0);
      expect(await survivors(dir)).toBe(10);
    }
  });

  it('a torn write keeps an in-order prefix of the unsynced tail and never less than what was acknowledged', async () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 30; seed++) {
      const { dir, sync } = await walAfterKill(10, 25);
      const d = damageWal(dir, sync, 'torn-wal', seed, 4242);
      expect(d.skipped).toBeNull();
      expect(d.cutAt).toBeGreaterThanOrEqual(d.syncedBytes);
      expect(d.cutAt).toBeLessThanOrEqual(d.writtenBytes);
      const last = await survivors(dir);
      expect(last).toBeGreaterThanOrEqual(10);
      expect(last).toBeLessThanOrEqual(25);
      seen.add(last);
    }
    // The tear lands at different places: sometimes inside the tail, sometimes keeping more of it.
    expect(seen.size).toBeGreaterThan(2);
  });

  it('with everything synced, tears the next write: garbage after the last record, which recovery cuts', async () => {
    const { dir, sync } = await walAfterKill(10, 10);
    const d = damageWal(dir, sync, 'torn-wal', 5, 4242);
    expect(d.skipped).toBeNull();
    expect(d.cutAt).toBe(d.writtenBytes);
    expect(d.garbageBytes).toBeGreaterThan(0);
    expect(await survivors(dir)).toBe(10);
  });

  it('does nothing without a sync state from the killed process', async () => {
    const { dir, sync } = await walAfterKill(5, 8);
    expect(damageWal(dir, null, 'power-loss', 1).skipped).toMatch(/no published sync state/);
    expect(damageWal(dir, sync, 'power-loss', 1, 999).skipped).toMatch(/not the killed pid 999/);
    expect(await survivors(dir)).toBe(8);
  });
});

describe('writtenEnd on a recycled segment file (WAL format v2)', () => {
  it("stops where records of the file's previous life (another salt) begin", () => {
    // Header (32 bytes) with salt 0xAAAA at 20; two records of this incarnation (salt 0xAAAA),
    // then a well-formed record left from the file's previous life (salt 0xBBBB).
    const record = (salt: number): Uint8Array => {
      const r = new Uint8Array(40);
      const v = new DataView(r.buffer);
      v.setUint32(0, 8, true); // payload length
      r[8] = 1; // an entry record
      v.setUint32(12, salt, true);
      return r;
    };
    const bytes = new Uint8Array(32 + 40 * 3 + 64);
    new DataView(bytes.buffer).setUint32(20, 0xaaaa, true);
    bytes.set(record(0xaaaa), 32);
    bytes.set(record(0xaaaa), 72);
    bytes.set(record(0xbbbb), 112);
    expect(writtenEnd(bytes)).toBe(112);
  });
});
