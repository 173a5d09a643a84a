import fs from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Entry } from '@keel/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { crc32c } from '../src/crc32c.js';
import { MAGIC, RecordType, readFileHeader, writeRecord, writeU64 } from '../src/format.js';
import { openLog, type WalLogStore, type WalOptions } from '../src/index.js';
import { mkEntries, payload, recordingLogger, sameBytes, tempDir, waitFor } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  while (cleanups.length) await cleanups.pop()!();
});

async function fresh(options: WalOptions = {}): Promise<{ dir: string; log: WalLogStore }> {
  const { dir, cleanup } = await tempDir();
  const log = await openLog(dir, options);
  cleanups.push(async () => {
    await log.close().catch(() => {});
    await cleanup();
  });
  return { dir, log };
}

function durable(log: WalLogStore, entries: Entry[], hs: Parameters<WalLogStore['append']>[1] = null) {
  return new Promise<void>((res, rej) => log.append(entries, hs, (e) => (e ? rej(e) : res())));
}

function settle(log: WalLogStore, entries: Entry[]): Promise<Error | null> {
  return new Promise((res) => log.append(entries, null, (e) => res(e)));
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
}

function checkAll(log: WalLogStore, lo: number, hi: number, term: (i: number) => number): void {
  const got = log.entries(lo, hi, Number.POSITIVE_INFINITY);
  expect(got.map((e) => e.index)).toEqual(Array.from({ length: hi - lo }, (_, k) => lo + k));
  for (const e of got) {
    expect(e.term).toBe(term(e.index));
    expect(sameBytes(e.data, payload(e.index, e.term, e.data.length))).toBe(true);
  }
}

describe('group commit', () => {
  it('coalesces appends issued while an fsync runs into one write and one fdatasync', async () => {
    const { log } = await fresh({ segmentSize: 1 << 20 });
    const order: number[] = [];
    const all: Array<Promise<void>> = [];
    for (let i = 1; i <= 200; i++) {
      all.push(
        new Promise<void>((res, rej) =>
          log.append(mkEntries(i, i + 1, 1), null, (e) => {
            order.push(i);
            if (e) rej(e);
            else res();
          }),
        ),
      );
    }
    await Promise.all(all);
    expect(order).toEqual(Array.from({ length: 200 }, (_, k) => k + 1));
    const m = log.metrics;
    expect(m.entriesDurable).toBe(200);
    expect(m.appendsDurable).toBe(200);
    // Synchronous appends: one group commit for all of them.
    expect(m.fsyncs).toBeLessThanOrEqual(2);
    expect(m.entriesPerFsync).toBeGreaterThanOrEqual(100);
  });

  it('reports nothing durable before its fdatasync returns; appends meanwhile share the next one', async () => {
    const { log } = await fresh({ segmentSize: 1 << 20, preallocate: false, dsync: false });
    const held: Array<() => void> = [];
    let syncs = 0;
    const realSync = fs.fdatasync;
    vi.spyOn(fs, 'fdatasync').mockImplementation(((...args: unknown[]) => {
      syncs++;
      held.push(() => Reflect.apply(realSync, fs, args));
    }) as unknown as typeof fs.fdatasync);
    // Runs before the store's close (cleanups run last-in first): nothing stays held on a failure.
    cleanups.push(async () => {
      for (const release of held.splice(0)) release();
    });
    const done: string[] = [];
    const append = (i: number, name: string) =>
      log.append(mkEntries(i, i + 1, 1), null, (e) => done.push(e ? `${name}: ${e.message}` : name));
    append(1, 'a');
    await waitFor(() => syncs === 1, 10_000, 'the first fdatasync');
    append(2, 'b');
    append(3, 'c');
    expect(done).toEqual([]);
    held.shift()!();
    await waitFor(() => syncs === 2, 10_000, 'the second fdatasync');
    // a's fdatasync returned; b and c were written together and wait for theirs.
    expect(done).toEqual(['a']);
    held.shift()!();
    await waitFor(() => done.length === 3, 10_000, 'b and c');
    expect(done).toEqual(['a', 'b', 'c']);
    expect(log.metrics.commits).toBe(2);
    expect(log.metrics.fsyncs).toBe(2);
  });

  it.skipIf(fs.constants.O_DSYNC === undefined)(
    'with O_DSYNC, reports nothing durable before its write returns and calls no fdatasync',
    async () => {
      // Data records only: the held writes are the commits' (a rotation or preallocation writes too).
      const { log } = await fresh({ segmentSize: 1 << 20 });
      await durable(log, mkEntries(1, 2, 1));
      const held: Array<() => void> = [];
      let writes = 0;
      const realWrite = fs.write;
      const sync = vi.spyOn(fs, 'fdatasync');
      vi.spyOn(fs, 'write').mockImplementation(((...args: unknown[]) => {
        writes++;
        held.push(() => Reflect.apply(realWrite, fs, args));
      }) as unknown as typeof fs.write);
      cleanups.push(async () => {
        for (const release of held.splice(0)) release();
      });
      const done: string[] = [];
      const append = (i: number, name: string) =>
        log.append(mkEntries(i, i + 1, 1), null, (e) => done.push(e ? `${name}: ${e.message}` : name));
      append(2, 'a');
      await waitFor(() => writes === 1, 10_000, 'the first write');
      append(3, 'b');
      append(4, 'c');
      expect(done).toEqual([]);
      held.shift()!();
      await waitFor(() => writes === 2, 10_000, 'the second write');
      expect(done).toEqual(['a']);
      held.shift()!();
      await waitFor(() => done.length === 3, 10_000, 'b and c');
      expect(done).toEqual(['a', 'b', 'c']);
      expect(sync).not.toHaveBeenCalled();
      expect(log.metrics.commits).toBe(3);
      expect(log.metrics.fsyncs).toBe(3);
      expect(log.syncState().at(-1)!.syncedBytes).toBe(log.syncState().at(-1)!.writeEnd);
    },
  );

  it('keeps later appenders waiting for one fsync, not one each', async () => {
    const { log } = await fresh({ segmentSize: 1 << 20 });
    let next = 1;
    const appenders = Array.from({ length: 8 }, async () => {
      for (let k = 0; k < 25; k++) {
        const i = next++;
        await durable(log, mkEntries(i, i + 1, 1));
      }
    });
    await Promise.all(appenders);
    expect(log.lastIndex()).toBe(200);
    // 8 concurrent appenders: each fdatasync covers about 8 appends.
    expect(log.metrics.fsyncs).toBeLessThan(100);
    checkAll(log, 1, 201, () => 1);
  });

  it('reports the duration of every segment fdatasync to onFsync, one call per fsync counted', async () => {
    const durations: number[] = [];
    // A small segment, so that rotations add the fsync of the full segment before the new one.
    const { log } = await fresh({ segmentSize: 4096, onFsync: (s) => durations.push(s) });
    for (let i = 1; i <= 40; i++) await durable(log, mkEntries(i, i + 1, 1, 200));
    expect(log.metrics.fsyncs).toBeGreaterThan(40);
    expect(durations.length).toBe(log.metrics.fsyncs);
    for (const s of durations) expect(s).toBeGreaterThanOrEqual(0);
  });
});

describe('segments', () => {
  it('rotates into preallocated segments whose names and headers carry the first index', async () => {
    const { dir, log } = await fresh({ segmentSize: 4096 });
    await durable(log, mkEntries(1, 101, 1, 100));
    await durable(log, mkEntries(101, 151, 1, 100));
    const files = await segmentFiles(dir);
    expect(files.length).toBeGreaterThan(3);
    let prevFirst = 0;
    for (const [k, name] of files.entries()) {
      const buf = await readFile(join(dir, name));
      const { header } = readFileHeader(buf);
      expect(header!.seq).toBe(k + 1);
      expect(name).toBe(
        `${String(k + 1).padStart(10, '0')}-${String(header!.firstIndex).padStart(20, '0')}.wal`,
      );
      expect(header!.firstIndex).toBeGreaterThan(prevFirst);
      prevFirst = header!.firstIndex;
      // Preallocated: every file is at least a segment long.
      expect(buf.length).toBeGreaterThanOrEqual(4096);
    }
    await log.close();
    const again = await openLog(dir, { segmentSize: 4096 });
    cleanups.push(() => again.close());
    checkAll(again, 1, 151, () => 1);
  });

  it('serves cold reads from disk once entries leave the cache, verifying each record', async () => {
    const { log } = await fresh({ segmentSize: 8192, cacheBytes: 1000 });
    await durable(log, mkEntries(1, 301, 2));
    checkAll(log, 1, 301, () => 2);
    expect(log.entries(5, 300, 60).map((e) => e.index)).toEqual([5, 6]);
  });

  it('takes an append larger than the staging buffer (several MiB) intact', async () => {
    const { dir, log } = await fresh({ segmentSize: 1 << 20 });
    await durable(log, mkEntries(1, 12_001, 1, 300));
    expect(log.lastIndex()).toBe(12_000);
    await log.close();
    const again = await openLog(dir, { segmentSize: 1 << 20 });
    cleanups.push(() => again.close());
    checkAll(again, 1, 12_001, () => 1);
  });

  it('reads entries that are only in a pending batch', async () => {
    const { log } = await fresh({ segmentSize: 8192, cacheBytes: 0 });
    const p = durable(log, mkEntries(1, 50, 1));
    checkAll(log, 1, 50, () => 1);
    await p;
    checkAll(log, 1, 50, () => 1);
  });

  it('compaction deletes the segments it frees, and only those', async () => {
    const { dir, log } = await fresh({ segmentSize: 4096 });
    await durable(log, mkEntries(1, 201, 1, 100));
    const before = await segmentFiles(dir);
    await log.compact(150, 1);
    const after = await segmentFiles(dir);
    expect(after.length).toBeLessThan(before.length);
    expect(log.firstIndex()).toBe(151);
    checkAll(log, 151, 201, () => 1);
    await log.close();
    const again = await openLog(dir, { segmentSize: 4096 });
    cleanups.push(() => again.close());
    expect(again.firstIndex()).toBe(151);
    expect(again.term(150)).toBe(1);
    checkAll(again, 151, 201, () => 1);
    // Compacting past the end (a snapshot install), then appending after it.
    await again.compact(1000, 3);
    await durable(again, mkEntries(1001, 1011, 3, 100));
    expect((await segmentFiles(dir)).length).toBeLessThanOrEqual(2);
    await again.close();
    const third = await openLog(dir, { segmentSize: 4096 });
    cleanups.push(() => third.close());
    expect([third.firstIndex(), third.lastIndex(), third.term(1000)]).toEqual([1001, 1010, 3]);
    checkAll(third, 1001, 1011, () => 3);
  });

  it('truncation reaching back into an older segment replays correctly', async () => {
    const { dir, log } = await fresh({ segmentSize: 4096 });
    await durable(log, mkEntries(1, 101, 1, 100));
    await durable(log, mkEntries(10, 20, 2, 100), { term: 2, vote: 'b', commit: 5 });
    await log.close();
    const again = await openLog(dir, { segmentSize: 4096 });
    cleanups.push(() => again.close());
    expect(again.lastIndex()).toBe(19);
    checkAll(again, 1, 20, (i) => (i < 10 ? 1 : 2));
    expect(again.initialState().hardState).toEqual({ term: 2, vote: 'b', commit: 5 });
  });
});

describe('segment recycling (format v2 salts)', () => {
  it('reuses files freed by compaction, and their stale records never come back', async () => {
    const { dir, log } = await fresh({ segmentSize: 4096 });
    await durable(log, mkEntries(1, 201, 1, 100));
    const zeroFilled = log.metrics.segmentsZeroFilled;
    await log.compact(190, 1);
    // The next rotations take the freed files instead of zero-filling new ones. Append until the
    // newest segment is one of them: past what this segment wrote, the file still holds the
    // valid-checksum records of the segment it used to be.
    let next = 201;
    let recycledTail = false;
    for (let k = 0; k < 10 && !recycledTail; k++) {
      await durable(log, mkEntries(next, next + 5, 1, 100));
      next += 5;
      const tail = log.syncState().at(-1)!;
      recycledTail = (await readFile(tail.file)).subarray(tail.syncedBytes).some((b) => b !== 0);
    }
    expect(recycledTail).toBe(true);
    expect(log.metrics.segmentsRecycled).toBeGreaterThan(0);
    expect(log.metrics.segmentsZeroFilled - zeroFilled).toBeLessThanOrEqual(1);
    await log.close();
    const again = await openLog(dir, { segmentSize: 4096 });
    cleanups.push(() => again.close());
    expect([again.firstIndex(), again.lastIndex()]).toEqual([191, next - 1]);
    checkAll(again, 191, next, () => 1);
    // Appending after reopen continues in the same file without waking the old records.
    await durable(again, mkEntries(next, next + 2, 2, 10));
    await again.close();
    const third = await openLog(dir, { segmentSize: 4096 });
    cleanups.push(() => third.close());
    expect(third.lastIndex()).toBe(next + 1);
    checkAll(third, 191, next + 2, (i) => (i < next ? 1 : 2));
  });

  it('removes a recycled newest segment whose new header never became durable', async () => {
    const { dir, log } = await fresh({ segmentSize: 4096 });
    await durable(log, mkEntries(1, 101, 1, 100));
    await log.close();
    const files = await segmentFiles(dir);
    const lastFile = join(dir, files.at(-1)!);
    const { header } = readFileHeader(await readFile(lastFile));
    // The rename of an old segment's file to the newest name reached the disk, the first write
    // under that name did not: the file still starts with the old segment's valid header.
    await writeFile(lastFile, await readFile(join(dir, files[0]!)));
    const logger = recordingLogger();
    const again = await openLog(dir, { segmentSize: 4096, logger });
    cleanups.push(() => again.close());
    expect(again.lastIndex()).toBe(header!.firstIndex - 1);
    expect(logger.logs.some((l) => l.level === 'warn' && /torn rotation/.test(l.msg))).toBe(true);
    expect(await segmentFiles(dir)).toEqual(files.slice(0, -1));
    checkAll(again, 1, header!.firstIndex, () => 1);
  });

  it('a zero-fill in progress gives way to a file that compaction frees', async () => {
    // Hold the first chunk of the third fill (2 chunks per 2 MiB segment) until a segment is free.
    // The fill started after the recycled file is taken would complete at a moment of the disk's
    // choosing (it raced the counts below): its last chunk is held until the counts are read.
    const MiB = 1024 * 1024;
    let zeroWrites = 0;
    let release: (() => void) | null = null;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let releaseLater: (() => void) | null = null;
    const heldLater = new Promise<void>((r) => {
      releaseLater = r;
    });
    let sawHold = false;
    const realWrite = fs.write;
    vi.spyOn(fs, 'write').mockImplementation(((...args: unknown[]) => {
      const buf = args[1] as Buffer;
      const len = args[3] as number;
      if (len === MiB && buf.length === MiB && buf.every((b) => b === 0)) {
        const n = ++zeroWrites;
        if (n === 5) {
          sawHold = true;
          void held.then(() => Reflect.apply(realWrite, fs, args));
          return;
        }
        if (n >= 7) {
          void heldLater.then(() => Reflect.apply(realWrite, fs, args));
          return;
        }
      }
      return Reflect.apply(realWrite, fs, args);
    }) as unknown as typeof fs.write);
    const { dir, log } = await fresh({ segmentSize: 2 * MiB });
    let next = 1;
    while (log.syncState().length < 2) {
      await durable(log, mkEntries(next, next + 200, 1, 1000));
      next += 200;
    }
    await waitFor(() => sawHold, 10_000, 'the third fill to start');
    await log.compact(next - 10, 1);
    release!();
    const files = log.syncState().length;
    while (log.syncState().length === files) {
      await durable(log, mkEntries(next, next + 200, 1, 1000));
      next += 200;
    }
    expect(log.metrics.segmentsRecycled).toBe(1);
    expect(log.metrics.segmentsZeroFilled).toBe(2);
    releaseLater!();
    vi.restoreAllMocks();
    await log.close();
    // The abandoned fill's file is gone (close removed the remaining spare).
    expect((await readdir(dir)).filter((n) => n.endsWith('.prep'))).toEqual([]);
    const again = await openLog(dir, { segmentSize: 2 * MiB });
    cleanups.push(() => again.close());
    checkAll(again, next - 9, next, () => 1);
  });

  it('compact with a callback fires in call order with appends, then frees segments', async () => {
    const { dir, log } = await fresh({ segmentSize: 4096 });
    await durable(log, mkEntries(1, 101, 1, 100));
    const order: string[] = [];
    log.append(mkEntries(101, 102, 1), null, () => order.push('a1'));
    log.compact(90, 1, (err) => order.push(err ? 'err' : 'c'));
    log.append(mkEntries(102, 103, 1), null, () => order.push('a2'));
    await durable(log, []);
    expect(order).toEqual(['a1', 'c', 'a2']);
    expect(log.firstIndex()).toBe(91);
    await log.close();
    const again = await openLog(dir, { segmentSize: 4096 });
    cleanups.push(() => again.close());
    expect([again.firstIndex(), again.lastIndex(), again.term(90)]).toEqual([91, 102, 1]);
  });

  it('reads a version-1 directory and continues it with version-2 segments', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    // A v1 segment as the v1 code wrote it: v1 header (u64 sequence number), records with salt 0.
    const seg = Buffer.alloc(4096);
    MAGIC.copy(seg, 0);
    seg.writeUInt32LE(1, 8);
    writeU64(seg, 16, 1);
    writeU64(seg, 24, 1);
    seg.writeUInt32LE(crc32c(seg, crc32c(seg, 0, 0, 12), 16, 32), 12);
    const base = Buffer.alloc(16);
    writeU64(base, 0, 1);
    let off = writeRecord(seg, 32, 0, RecordType.SegmentBase, 0, 0, 0, base);
    off = writeRecord(seg, off, 0, RecordType.HardState, 0, 0, 1, Buffer.from('n1'));
    for (const e of mkEntries(1, 6, 1))
      off = writeRecord(seg, off, 0, RecordType.Entry, 1, e.index, e.term, e.data);
    await writeFile(join(dir, '0000000001-00000000000000000001.wal'), seg);
    const log = await openLog(dir, { segmentSize: 4096 });
    expect(log.initialState().hardState).toEqual({ term: 1, vote: 'n1', commit: 0 });
    checkAll(log, 1, 6, () => 1);
    await durable(log, mkEntries(6, 120, 2, 100));
    await log.close();
    const files = await segmentFiles(dir);
    expect(readFileHeader(await readFile(join(dir, files[0]!))).version).toBe(1);
    expect(readFileHeader(await readFile(join(dir, files.at(-1)!))).version).toBe(2);
    const again = await openLog(dir, { segmentSize: 4096 });
    cleanups.push(() => again.close());
    checkAll(again, 1, 120, (i) => (i < 6 ? 1 : 2));
  });
});

describe('recovery', () => {
  async function closedLog(options: WalOptions = { segmentSize: 1 << 16 }) {
    const { dir, log } = await fresh(options);
    await durable(log, mkEntries(1, 21, 1), { term: 1, vote: 'a', commit: 3 });
    await durable(log, mkEntries(21, 31, 2));
    const state = log.syncState();
    await log.close();
    const tail = state[state.length - 1]!;
    return { dir, file: tail.file, end: tail.syncedBytes };
  }

  for (const dsync of [true, false]) {
    it(`reads the zeros after the last record of a preallocated tail as the end of the log (dsync: ${dsync})`, async () => {
      const segmentSize = 1 << 18;
      const { dir, log } = await fresh({ segmentSize, dsync });
      await durable(log, mkEntries(1, 41, 1, 100));
      const st = log.syncState().at(-1)!;
      await log.close();
      // The tail file is preallocated to its full size; past the records it holds only zeros.
      const tail = (await segmentFiles(dir)).at(-1)!;
      const bytes = await readFile(join(dir, tail));
      expect(bytes.length).toBe(segmentSize);
      expect(st.writeEnd).toBeLessThan(segmentSize);
      expect(bytes.subarray(st.writeEnd).every((b) => b === 0)).toBe(true);
      const logger = recordingLogger();
      const again = await openLog(dir, { logger, dsync });
      expect(again.lastIndex()).toBe(40);
      // Zeros are the end of the log, not a torn record: nothing is cut, nothing is warned about.
      expect(logger.logs.filter((l) => l.level !== 'info')).toEqual([]);
      await durable(again, mkEntries(41, 61, 2, 100));
      await again.close();
      const third = await openLog(dir, { dsync: !dsync });
      cleanups.push(() => third.close());
      checkAll(third, 1, 61, (i) => (i <= 40 ? 1 : 2));
      expect((await readFile(join(dir, tail))).length).toBe(segmentSize);
    });
  }

  it('cuts a torn tail (a half-written last record), logs what was cut, and keeps working', async () => {
    const { dir, file } = await closedLog();
    const logger = recordingLogger();
    // Re-open once to learn where records end, then write half a record there.
    const probe = await openLog(dir);
    await durable(probe, mkEntries(31, 32, 2, 300));
    const st = probe.syncState();
    await probe.close();
    const end = st[st.length - 1]!.syncedBytes;
    const buf = await readFile(file);
    const recStart = end - 336; // recordSize(300) = 32 + 304
    buf.fill(0, recStart + 150, end); // the second half of the last record never reached the disk
    await writeFile(file, buf);
    const log = await openLog(dir, { logger });
    cleanups.push(() => log.close());
    expect(log.lastIndex()).toBe(30);
    checkAll(log, 1, 31, (i) => (i <= 20 ? 1 : 2));
    const warn = logger.logs.find((l) => l.level === 'warn');
    expect(warn?.msg).toMatch(/torn tail/);
    expect(warn?.obj).toMatchObject({ file, offset: recStart, recordIndex: 31, recordTerm: 2 });
    // The tail was zeroed: the bytes after the valid end are gone for good.
    expect((await readFile(file)).subarray(recStart, end).every((b) => b === 0)).toBe(true);
    await durable(log, mkEntries(31, 33, 3));
    await log.close();
    const again = await openLog(dir);
    cleanups.push(() => again.close());
    checkAll(again, 1, 33, (i) => (i <= 20 ? 1 : i <= 30 ? 2 : 3));
  });

  it('refuses a bad record followed by valid ones, naming the file and offset', async () => {
    const { dir, file } = await closedLog();
    const buf = await readFile(file);
    // The first entry record follows the header (32) + base record (48) + hard state (32).
    const at = 32 + 48 + 32;
    buf[at + 40] = (buf[at + 40]! ^ 0x10) & 0xff;
    await writeFile(file, buf);
    const err = await openLog(dir).then(
      () => null,
      (e: unknown) => e as Error & { code: string },
    );
    expect(err?.code).toBe('KEEL_WAL_CORRUPT');
    expect(err?.message).toContain(file);
    expect(err?.message).toContain(`offset ${at}`);
  });

  it('refuses damage in an older segment even at its end', async () => {
    const { dir, log } = await fresh({ segmentSize: 4096 });
    await durable(log, mkEntries(1, 101, 1, 100));
    await log.close();
    const first = join(dir, (await segmentFiles(dir))[0]!);
    const buf = await readFile(first);
    // Damage the end marker: the last non-zero record of the sealed segment.
    let end = buf.length;
    while (buf[end - 1] === 0) end--;
    buf[end - 1] = (buf[end - 1]! ^ 1) & 0xff;
    await writeFile(first, buf);
    await expect(openLog(dir)).rejects.toMatchObject({ code: 'KEEL_WAL_CORRUPT' });
  });

  it('refuses a missing middle segment', async () => {
    const { dir, log } = await fresh({ segmentSize: 4096 });
    await durable(log, mkEntries(1, 101, 1, 100));
    await log.close();
    const files = await segmentFiles(dir);
    await rm(join(dir, files[1]!));
    await expect(openLog(dir)).rejects.toMatchObject({ code: 'KEEL_WAL_CORRUPT' });
  });

  it('refuses an unknown format version with its own code', async () => {
    const { dir, file } = await closedLog();
    const buf = await readFile(file);
    buf.writeUInt32LE(99, 8);
    // Keep the header checksum valid so only the version differs.
    buf.writeUInt32LE(crc32c(buf, crc32c(buf, 0, 0, 12), 16, 32), 12);
    await writeFile(file, buf);
    await expect(openLog(dir)).rejects.toMatchObject({ code: 'KEEL_WAL_UNSUPPORTED_VERSION' });
  });

  it('removes a newest segment whose header never became durable (torn rotation)', async () => {
    const { dir, log } = await fresh({ segmentSize: 4096 });
    await durable(log, mkEntries(1, 101, 1, 100));
    await log.close();
    const files = await segmentFiles(dir);
    const lastFile = join(dir, files[files.length - 1]!);
    const buf = await readFile(lastFile);
    // Only the header, base and hard state reached the file's name, not its data: all zero.
    const { header } = readFileHeader(buf);
    buf.fill(0);
    await writeFile(lastFile, buf);
    const logger = recordingLogger();
    const again = await openLog(dir, { logger, segmentSize: 4096 });
    cleanups.push(() => again.close());
    expect(again.lastIndex()).toBe(header!.firstIndex - 1);
    expect(logger.logs.some((l) => l.level === 'warn' && /torn rotation/.test(l.msg))).toBe(true);
    expect(await segmentFiles(dir)).toHaveLength(files.length - 1);
    await durable(again, mkEntries(again.lastIndex() + 1, again.lastIndex() + 5, 2));
    checkAll(again, 1, again.lastIndex() + 1, (i) => (i < header!.firstIndex ? 1 : 2));
  });
});

describe('failures', () => {
  it('a failed fdatasync stops the store: pending and later appends get KEEL_WAL_FSYNC_FAILED', async () => {
    const logger = recordingLogger();
    const { dir, log } = await fresh({ segmentSize: 1 << 16, logger, dsync: false });
    await durable(log, mkEntries(1, 11, 1));
    const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((
      _fd: number,
      cb: (e: Error | null) => void,
    ) => {
      cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    }) as typeof fs.fdatasync);
    const e1 = await settle(log, mkEntries(11, 12, 1));
    expect(spy).toHaveBeenCalled();
    expect((e1 as Error & { code: string }).code).toBe('KEEL_WAL_FSYNC_FAILED');
    spy.mockRestore();
    // No retry, even though fdatasync would now succeed.
    const e2 = await settle(log, mkEntries(12, 13, 1));
    expect((e2 as Error & { code: string }).code).toBe('KEEL_WAL_FSYNC_FAILED');
    expect(logger.logs.some((l) => l.level === 'error')).toBe(true);
    await expect(log.compact(5, 1)).rejects.toMatchObject({ code: 'KEEL_WAL_FSYNC_FAILED' });
    await log.close();
    const again = await openLog(dir);
    cleanups.push(() => again.close());
    expect(again.lastIndex()).toBeGreaterThanOrEqual(10);
    checkAll(again, 1, 11, () => 1);
  });

  it.skipIf(fs.constants.O_DSYNC === undefined)(
    'a failed O_DSYNC write stops the store: pending and later appends get KEEL_WAL_FSYNC_FAILED',
    async () => {
      const { dir, log } = await fresh({ segmentSize: 1 << 16 });
      await durable(log, mkEntries(1, 11, 1));
      const spy = vi.spyOn(fs, 'write').mockImplementation(((...args: unknown[]) => {
        const cb = args[args.length - 1] as (e: Error | null, n?: number) => void;
        cb(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
      }) as unknown as typeof fs.write);
      const e1 = (await settle(log, mkEntries(11, 12, 1))) as Error & { code: string };
      expect(spy).toHaveBeenCalled();
      expect(e1.code).toBe('KEEL_WAL_FSYNC_FAILED');
      expect(e1.message).toMatch(/O_DSYNC/);
      spy.mockRestore();
      // No retry, even though the write would now succeed.
      const e2 = (await settle(log, mkEntries(12, 13, 1))) as Error & { code: string };
      expect(e2.code).toBe('KEEL_WAL_FSYNC_FAILED');
      await log.close();
      const again = await openLog(dir);
      cleanups.push(() => again.close());
      checkAll(again, 1, 11, () => 1);
    },
  );

  it('disk full is a clear, fatal error that loses nothing already durable', async () => {
    const { dir, log } = await fresh({ segmentSize: 1 << 16 });
    await durable(log, mkEntries(1, 11, 1));
    vi.spyOn(fs, 'write').mockImplementation(((...args: unknown[]) => {
      const cb = args[args.length - 1] as (e: Error | null, n?: number) => void;
      cb(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    }) as unknown as typeof fs.write);
    const err = (await settle(log, mkEntries(11, 12, 1))) as Error & { code: string };
    expect(err.code).toBe('KEEL_WAL_DISK_FULL');
    expect(err.message).toMatch(/disk is full/);
    vi.restoreAllMocks();
    await log.close();
    const again = await openLog(dir);
    cleanups.push(() => again.close());
    checkAll(again, 1, 11, () => 1);
  });

  it('refuses appends after close and malformed appends', async () => {
    const { log } = await fresh();
    expect(() => log.append(mkEntries(2, 3, 1), null, () => {})).toThrow(/outside/);
    await log.close();
    expect(() => log.append(mkEntries(1, 2, 1), null, () => {})).toThrow(
      expect.objectContaining({ code: 'KEEL_WAL_CLOSED' }),
    );
  });
});
