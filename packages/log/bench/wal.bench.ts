/**
 * WAL benchmark: 256-byte entries in batches of 1, 16 and 256, one appender and many concurrent
 * ones, against the physical limit measured in the same run (a raw write + fdatasync loop on a
 * preallocated file in the same directory). Then reopens a 1,000,000-entry log.
 *
 *   pnpm bench                      (KEEL_BENCH_SECONDS=2 per scenario, KEEL_BENCH_DIR=os.tmpdir())
 */
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import type { Entry } from '@keel/core';
import { crc32c } from '../src/crc32c.js';
import { openLog } from '../src/index.js';

const SECONDS = Number(process.env.KEEL_BENCH_SECONDS ?? 2);
const ENTRY = 256;
const REOPEN_ENTRIES = Number(process.env.KEEL_BENCH_REOPEN ?? 1_000_000);
const data = new Uint8Array(ENTRY).map((_, i) => (i * 31 + 7) & 0xff);

interface Row {
  scenario: string;
  entriesPerSec: number;
  fsyncsPerSec: number;
  entriesPerFsync: number;
  p50: number;
  p99: number;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function rawLoop(dir: string, bytes: number): Promise<Row> {
  const path = join(dir, 'raw.bin');
  const size = 256 * 1024 * 1024;
  const fd = fs.openSync(path, 'w+');
  const zeros = Buffer.alloc(1 << 20);
  for (let off = 0; off < size; off += zeros.length) fs.writeSync(fd, zeros, 0, zeros.length, off);
  fs.fsyncSync(fd);
  const buf = Buffer.alloc(bytes, 1);
  const lat: number[] = [];
  let n = 0;
  let pos = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000 && pos + bytes <= size) {
    const s = performance.now();
    await new Promise<void>((res, rej) => fs.write(fd, buf, 0, bytes, pos, (e) => (e ? rej(e) : res())));
    await new Promise<void>((res, rej) => fs.fdatasync(fd, (e) => (e ? rej(e) : res())));
    lat.push(performance.now() - s);
    pos += bytes;
    n++;
  }
  const secs = (performance.now() - t0) / 1000;
  fs.closeSync(fd);
  fs.rmSync(path);
  lat.sort((a, b) => a - b);
  return {
    scenario: `raw write(${bytes} B)+fdatasync`,
    entriesPerSec: 0,
    fsyncsPerSec: n / secs,
    entriesPerFsync: 0,
    p50: pct(lat, 50),
    p99: pct(lat, 99),
  };
}

async function walRun(root: string, name: string, batch: number, appenders: number): Promise<Row> {
  const dir = await mkdtemp(join(root, 'wal-'));
  const log = await openLog(dir);
  // Warm-up: the first segment is created and the next one preallocated before timing starts.
  await new Promise<void>((r) => log.append([{ index: 1, term: 1, type: 1, data }], null, () => r()));
  const m0 = log.metrics;
  let next = 2;
  const lat: number[] = [];
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      while (performance.now() < deadline) {
        const es: Entry[] = new Array(batch);
        for (let i = 0; i < batch; i++) es[i] = { index: next + i, term: 1, type: 1, data };
        next += batch;
        const s = performance.now();
        await new Promise<void>((res, rej) => log.append(es, null, (e) => (e ? rej(e) : res())));
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const m = log.metrics;
  await log.close();
  await rm(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  const entries = m.entriesDurable - m0.entriesDurable;
  const fsyncs = m.fsyncs - m0.fsyncs;
  return {
    scenario: name,
    entriesPerSec: entries / secs,
    fsyncsPerSec: fsyncs / secs,
    entriesPerFsync: entries / fsyncs,
    p50: pct(lat, 50),
    p99: pct(lat, 99),
  };
}

async function reopen(
  root: string,
): Promise<{ writeSecs: number; openMs: number; entries: number; bytes: number }> {
  const dir = await mkdtemp(join(root, 'reopen-'));
  const log = await openLog(dir);
  const batch = 4096;
  const t0 = performance.now();
  const inflight: Array<Promise<void>> = [];
  for (let i = 1; i <= REOPEN_ENTRIES; i += batch) {
    const n = Math.min(batch, REOPEN_ENTRIES - i + 1);
    const es: Entry[] = new Array(n);
    for (let k = 0; k < n; k++) es[k] = { index: i + k, term: 1, type: 1, data };
    inflight.push(new Promise<void>((res, rej) => log.append(es, null, (e) => (e ? rej(e) : res()))));
    if (inflight.length >= 8) await inflight.shift();
  }
  await Promise.all(inflight);
  const writeSecs = (performance.now() - t0) / 1000;
  const bytes = log.metrics.bytesWritten;
  await log.close();
  const t1 = performance.now();
  const again = await openLog(dir);
  const openMs = performance.now() - t1;
  if (again.lastIndex() !== REOPEN_ENTRIES) throw new Error(`reopened ${again.lastIndex()} entries`);
  const e = again.entries(REOPEN_ENTRIES / 2, REOPEN_ENTRIES / 2 + 1, 1 << 20)[0]!;
  if (Buffer.compare(Buffer.from(e.data), Buffer.from(data)) !== 0) throw new Error('reopened entry differs');
  await again.close();
  await rm(dir, { recursive: true, force: true });
  return { writeSecs, openMs, entries: REOPEN_ENTRIES, bytes };
}

function crcSpeed(): { js: number; native: number | null } {
  const buf = Buffer.alloc(288 * 50_000, 7);
  let t = performance.now();
  let c = 0;
  for (let o = 0; o < buf.length; o += 288) c ^= crc32c(buf, 0, o, o + 288);
  const js = buf.length / 1e6 / ((performance.now() - t) / 1000);
  const nativeCrc = (zlib as { crc32?: (b: Uint8Array) => number }).crc32;
  let native: number | null = null;
  if (nativeCrc) {
    t = performance.now();
    for (let o = 0; o < buf.length; o += 288) c ^= nativeCrc(buf.subarray(o, o + 288));
    native = buf.length / 1e6 / ((performance.now() - t) / 1000);
  }
  if (c === 0.5) console.log(c);
  return { js, native };
}

const f0 = (x: number) => x.toFixed(0);
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

async function main(): Promise<void> {
  const root = await mkdtemp(join(process.env.KEEL_BENCH_DIR ?? tmpdir(), 'keel-bench-'));
  try {
    console.log(
      `WAL bench: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), dir ${root}, ${SECONDS}s per scenario, ${ENTRY}-byte entries`,
    );
    const crc = crcSpeed();
    console.log(
      `checksum on 288-byte records: JS CRC32C ${f0(crc.js)} MB/s; native zlib.crc32 (CRC32, not C) ${crc.native === null ? 'absent' : `${f0(crc.native)} MB/s`}`,
    );
    const rows: Row[] = [];
    // One 256-byte entry is a 288-byte record: each raw loop writes the bytes of one batch per fsync.
    const raws = new Map<number, Row>();
    for (const batch of [1, 16, 256]) {
      const r = await rawLoop(root, 288 * batch);
      raws.set(batch, r);
      rows.push(r);
    }
    const raw = raws.get(1)!;
    rows.push(await walRun(root, 'batch 1, 1 appender', 1, 1));
    rows.push(await walRun(root, 'batch 16, 1 appender', 16, 1));
    rows.push(await walRun(root, 'batch 256, 1 appender', 256, 1));
    rows.push(await walRun(root, 'batch 1, 64 appenders', 1, 64));
    rows.push(await walRun(root, 'batch 256, 4 appenders', 256, 4));
    console.log('');
    console.log(
      '| scenario | entries/s | fsyncs/s | fsyncs vs raw (same bytes/fsync) | entries/fsync | p50 ms | p99 ms |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      const batch = Number(/batch (\d+)/.exec(r.scenario)?.[1] ?? 0);
      const base = raws.get(batch);
      const vsRaw = base ? `${f0((100 * r.fsyncsPerSec) / base.fsyncsPerSec)}%` : '-';
      console.log(
        `| ${r.scenario} | ${r.entriesPerSec ? f0(r.entriesPerSec) : '-'} | ${f0(r.fsyncsPerSec)} | ${vsRaw} | ${r.entriesPerFsync ? f1(r.entriesPerFsync) : '-'} | ${f2(r.p50)} | ${f2(r.p99)} |`,
      );
    }
    const ro = await reopen(root);
    console.log('');
    console.log(
      `reopen: ${ro.entries} entries (${f0(ro.bytes / 1e6)} MB, written in ${f2(ro.writeSecs)} s = ${f0(ro.entries / ro.writeSecs)} entries/s) reopened in ${f0(ro.openMs)} ms (target < 2000 ms)`,
    );
    const one = rows.find((r) => r.scenario === 'batch 1, 1 appender')!;
    const big = Math.max(
      ...rows.filter((r) => r.scenario.startsWith('batch 256')).map((r) => r.entriesPerSec),
    );
    console.log(
      `targets: fsyncs/s (batch 1, 1 appender) ${f0((100 * one.fsyncsPerSec) / raw.fsyncsPerSec)}% of raw (>= 90%); 256-entry batches ${f0(big)} entries/s (>= 500000; the raw loop moves ${f0(raws.get(256)!.fsyncsPerSec * 256)} entries' bytes/s); reopen ${f0(ro.openMs)} ms (< 2000)`,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
