/**
 * WAL benchmark: 256-byte entries in batches of 1, 16 and 256, one appender and many concurrent
 * ones, against the physical limit measured in the same run (a raw write + fdatasync loop on a
 * preallocated file in the same directory, writing the same bytes per fsync). Then reopens a
 * 1,000,000-entry log.
 *
 * The two target cases are measured in ROUNDS interleaved rounds so a neighbour's load hits every
 * side alike: batch 1 (fsync-bound) as raw, WAL pairs; batch 256 with one appender as raw, WAL in
 * steady state (compacting behind snapshots as a Raft node does, so rotations recycle freed
 * segment files), WAL on a log that only grows (every new segment zero-filled first). The table
 * shows, per side, the round with the median entries/s (fsyncs/s for raw), and the ratio line
 * gives the median of the per-round ratios.
 *
 *   pnpm bench    (KEEL_BENCH_SECONDS=2 per scenario, KEEL_BENCH_ROUNDS=5, KEEL_BENCH_DIR=os.tmpdir(),
 *                  KEEL_BENCH_REOPEN=1000000)
 */
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import type { Entry } from '@keel/core';
import { crc32cBytewise, crc32cWords } from '../src/crc32c.js';
import { openLog } from '../src/index.js';

const SECONDS = Number(process.env.KEEL_BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.KEEL_BENCH_ROUNDS ?? 5);
const ENTRY = 256;
/** A 256-byte entry is a 288-byte record (32-byte header). */
const RECORD = 288;
const REOPEN_ENTRIES = Number(process.env.KEEL_BENCH_REOPEN ?? 1_000_000);
/** KEEL_BENCH_DSYNC=0: the WAL writes and then fdatasyncs (WalOptions.dsync false), for comparison. */
const DSYNC = process.env.KEEL_BENCH_DSYNC !== '0';
const data = new Uint8Array(ENTRY).map((_, i) => (i * 31 + 7) & 0xff);

interface Row {
  scenario: string;
  entriesPerSec: number;
  fsyncsPerSec: number;
  entriesPerFsync: number;
  /** fdatasync calls per group commit and directory fsyncs during the timed part (WAL only). */
  syncsPerCommit: number;
  dirSyncs: number;
  /** Time spent inside append() calls (encoding, index, cache), per entry. */
  appendNs: number;
  p50: number;
  p99: number;
  /** New segments during the timed part: recycled files, zero-filled files (WAL only). */
  recycled: number;
  zeroFilled: number;
  /** Process CPU (user + system, every thread) over the timed part, per fsync (µs). */
  cpuPerSync: number;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function rawLoop(dir: string, bytes: number, label: string): Promise<Row> {
  const path = join(dir, 'raw.bin');
  // Preallocated like a WAL segment: zero-filled and fsynced before timing.
  const size = 64 * 1024 * 1024;
  const fd = fs.openSync(path, 'w+');
  const zeros = Buffer.alloc(1 << 20);
  for (let off = 0; off < size; off += zeros.length) fs.writeSync(fd, zeros, 0, zeros.length, off);
  fs.fsyncSync(fd);
  const buf = Buffer.alloc(bytes, 1);
  const lat: number[] = [];
  let n = 0;
  let pos = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    if (pos + bytes > size) pos = 0; // overwrite from the start: still allocated blocks
    const s = performance.now();
    await new Promise<void>((res, rej) => fs.write(fd, buf, 0, bytes, pos, (e) => (e ? rej(e) : res())));
    await new Promise<void>((res, rej) => fs.fdatasync(fd, (e) => (e ? rej(e) : res())));
    lat.push(performance.now() - s);
    pos += bytes;
    n++;
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  fs.closeSync(fd);
  fs.rmSync(path);
  lat.sort((a, b) => a - b);
  return {
    scenario: label,
    entriesPerSec: 0,
    fsyncsPerSec: n / secs,
    entriesPerFsync: 0,
    syncsPerCommit: 1,
    dirSyncs: 0,
    appendNs: 0,
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    recycled: 0,
    zeroFilled: 0,
    cpuPerSync: (cpu.user + cpu.system) / n,
  };
}

/**
 * Snapshot policy of the steady-state runs: every SNAPSHOT_EVERY entries, compact the log up to
 * KEEP entries behind its end (etcd keeps 5,000 behind a snapshot taken every 10,000-100,000).
 */
const SNAPSHOT_EVERY = 100_000;
const KEEP = 10_000;
/** Entries appended (and compacted) before timing a steady-state run: three 64 MiB segments. */
const STEADY_WARMUP = 700_000;

interface RunOptions {
  /** Compact behind the appenders like a node taking snapshots (segment files get recycled). */
  readonly compacting?: boolean;
}

async function walRun(
  root: string,
  name: string,
  batch: number,
  appenders: number,
  opts: RunOptions = {},
): Promise<Row> {
  const dir = await mkdtemp(join(root, 'wal-'));
  const log = await openLog(dir, { dsync: DSYNC });
  let next = 1;
  let compacting: Promise<void> | null = null;
  const maybeCompact = () => {
    if (opts.compacting && compacting === null && next - log.firstIndex() > SNAPSHOT_EVERY) {
      compacting = log.compact(next - 1 - KEEP, 1).then(() => {
        compacting = null;
      });
    }
  };
  const appendBatch = (n: number) =>
    new Promise<void>((res, rej) => {
      const es: Entry[] = new Array(n);
      for (let i = 0; i < n; i++) es[i] = { index: next + i, term: 1, type: 1, data };
      next += n;
      log.append(es, null, (e) => (e ? rej(e) : res()));
    });
  // Warm-up: the first segment is created, and the next one's preallocation (started by that
  // rotation) finishes before timing starts. Rotations inside the timed part are counted. A
  // steady-state run first cycles through a few segments, compacting, as a long-running node has.
  await appendBatch(1);
  if (opts.compacting) {
    while (next < STEADY_WARMUP) {
      await appendBatch(4096);
      maybeCompact();
    }
    await compacting;
  }
  await log.prepared();
  const m0 = log.metrics;
  const first = next;
  let appendMs = 0;
  const lat: number[] = [];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      while (performance.now() < deadline) {
        const es: Entry[] = new Array(batch);
        for (let i = 0; i < batch; i++) es[i] = { index: next + i, term: 1, type: 1, data };
        next += batch;
        await new Promise<void>((res, rej) => {
          const s = performance.now();
          log.append(es, null, (e) => {
            if (e) rej(e);
            else {
              lat.push(performance.now() - s);
              res();
            }
          });
          appendMs += performance.now() - s;
        });
        maybeCompact();
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const m = log.metrics;
  await compacting;
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
    syncsPerCommit: fsyncs / (m.commits - m0.commits),
    dirSyncs: m.dirSyncs - m0.dirSyncs,
    appendNs: (appendMs * 1e6) / (next - first),
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    recycled: m.segmentsRecycled - m0.segmentsRecycled,
    zeroFilled: m.segmentsZeroFilled - m0.segmentsZeroFilled,
    cpuPerSync: (cpu.user + cpu.system) / fsyncs,
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

/** MB/s over 288-byte records, best of 5 passes. */
function crcSpeed(f: (buf: Buffer, o: number) => number): number {
  const buf = Buffer.alloc(RECORD * 50_000);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 131 + 7) & 0xff;
  let best = 0;
  let c = 0;
  for (let pass = 0; pass < 5; pass++) {
    const t = performance.now();
    for (let o = 0; o < buf.length; o += RECORD) c ^= f(buf, o);
    best = Math.max(best, buf.length / 1e6 / ((performance.now() - t) / 1000));
  }
  if (c === 0.5) console.log(c);
  return best;
}

const f0 = (x: number) => x.toFixed(0);
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

function printRows(rows: Row[], raws: Map<number, Row>): void {
  console.log(
    '| scenario | entries/s | fsyncs/s | vs raw (same bytes/fsync) | entries/fsync | syncs/commit | new segments (recycled/zero-filled) | append() ns/entry | CPU µs/fsync | p50 ms | p99 ms |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const batch = Number(/^batch (\d+)/.exec(r.scenario)?.[1] ?? 0);
    const base = raws.get(batch);
    const vsRaw = base ? `${f0((100 * r.fsyncsPerSec) / base.fsyncsPerSec)}%` : '-';
    const wal = r.entriesPerSec > 0;
    console.log(
      `| ${r.scenario} | ${wal ? f0(r.entriesPerSec) : '-'} | ${f0(r.fsyncsPerSec)} | ${vsRaw} | ${wal ? f1(r.entriesPerFsync) : '-'} | ${wal ? `${f2(r.syncsPerCommit)}${r.dirSyncs ? ` (+${r.dirSyncs} dir)` : ''}` : '-'} | ${wal ? `${r.recycled}/${r.zeroFilled}` : '-'} | ${wal ? f0(r.appendNs) : '-'} | ${f0(r.cpuPerSync)} | ${f2(r.p50)} | ${f2(r.p99)} |`,
    );
  }
}

/** The run whose `key` is the median of the rounds (the lower middle one for an even count). */
function medianRun(rs: Row[], key: (r: Row) => number): Row {
  const sorted = [...rs].sort((a, b) => key(a) - key(b));
  return sorted[(sorted.length - 1) >> 1]!;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(process.env.KEEL_BENCH_DIR ?? tmpdir(), 'keel-bench-'));
  try {
    console.log(
      `WAL bench: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), dir ${root}, ${SECONDS}s per scenario, ${ENTRY}-byte entries`,
    );
    let w: Int32Array = new Int32Array(0);
    const words = crcSpeed((b, o) => {
      if (w.buffer !== b.buffer) w = new Int32Array(b.buffer, b.byteOffset, b.length >> 2);
      const k = o >> 2;
      return crc32cWords(w, crc32cWords(w, 0, k, k + 1), k + 2, (o + RECORD) >> 2);
    });
    const bytewise = crcSpeed((b, o) => crc32cBytewise(b, crc32cBytewise(b, 0, o, o + 4), o + 8, o + RECORD));
    const nativeCrc = (zlib as { crc32?: (b: Uint8Array) => number }).crc32;
    const native = nativeCrc ? crcSpeed((b, o) => nativeCrc(b.subarray(o, o + RECORD))) : null;
    console.log(
      `checksum on ${RECORD}-byte records: JS CRC32C ${f0(words)} MB/s = ${f0((RECORD / words) * 1e3)} ns/record (word loads, what the WAL uses; bytewise ${f0(bytewise)} MB/s); native zlib.crc32 ${native === null ? 'absent' : `${f0(native)} MB/s = ${f0((RECORD / native) * 1e3)} ns/record`} (plain CRC32, not CRC32C: not usable for the format)`,
    );

    // The fsync-bound case, interleaved: raw, WAL, raw, WAL, ...
    const raw1s: Row[] = [];
    const wal1s: Row[] = [];
    const ratios1: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const raw = await rawLoop(root, RECORD, `raw write(${RECORD} B)+fdatasync`);
      const wal = await walRun(root, 'batch 1, 1 appender', 1, 1);
      raw1s.push(raw);
      wal1s.push(wal);
      ratios1.push(wal.fsyncsPerSec / raw.fsyncsPerSec);
    }
    // The throughput target, interleaved: raw, WAL steady state, WAL growing log, raw, ...
    const BIG = RECORD * 256;
    const raw256s: Row[] = [];
    const steadys: Row[] = [];
    const growings: Row[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      raw256s.push(await rawLoop(root, BIG, `raw write(${BIG} B)+fdatasync`));
      steadys.push(await walRun(root, 'batch 256, 1 appender, steady state', 256, 1, { compacting: true }));
      growings.push(await walRun(root, 'batch 256, 1 appender, growing log', 256, 1));
    }
    const byFsyncs = (r: Row) => r.fsyncsPerSec;
    const byEntries = (r: Row) => r.entriesPerSec;
    const raw1 = medianRun(raw1s, byFsyncs);
    const raw256 = medianRun(raw256s, byFsyncs);
    const ratio1 = median(ratios1);
    const steady = medianRun(steadys, byEntries);
    const growing = medianRun(growings, byEntries);

    const raw16 = await rawLoop(root, RECORD * 16, `raw write(${RECORD * 16} B)+fdatasync`);
    const raws = new Map<number, Row>([
      [1, raw1],
      [16, raw16],
      [256, raw256],
    ]);
    const rows: Row[] = [
      { ...raw1, scenario: `${raw1.scenario} (median of ${ROUNDS})` },
      raw16,
      { ...raw256, scenario: `${raw256.scenario} (median of ${ROUNDS})` },
      { ...medianRun(wal1s, byFsyncs), scenario: `batch 1, 1 appender (median of ${ROUNDS})` },
      await walRun(root, 'batch 16, 1 appender', 16, 1),
      { ...steady, scenario: `${steady.scenario} (median of ${ROUNDS})` },
      { ...growing, scenario: `${growing.scenario} (median of ${ROUNDS})` },
      await walRun(root, 'batch 1, 64 appenders', 1, 64),
      await walRun(root, 'batch 256, 4 appenders', 256, 4),
    ];
    console.log('');
    printRows(rows, raws);
    console.log('');
    const list = (rs: Row[], key: (r: Row) => number) => rs.map((r) => f0(key(r))).join(', ');
    console.log(
      `rounds, batch 1 (fsyncs/s): raw ${list(raw1s, byFsyncs)}; WAL ${list(wal1s, byFsyncs)}; WAL/raw ${ratios1.map((x) => `${f0(100 * x)}%`).join(', ')}`,
    );
    console.log(
      `rounds, batch 256, 1 appender: raw ${list(raw256s, byFsyncs)} fsyncs/s; steady state ${list(steadys, byEntries)} entries/s; growing log ${list(growings, byEntries)} entries/s`,
    );
    const ro = await reopen(root);
    console.log(
      `reopen: ${ro.entries} entries (${f0(ro.bytes / 1e6)} MB, written in ${f2(ro.writeSecs)} s = ${f0(ro.entries / ro.writeSecs)} entries/s) reopened in ${f0(ro.openMs)} ms (target < 2000 ms)`,
    );
    console.log(
      `targets: fsyncs/s (batch 1, 1 appender) ${f0(100 * ratio1)}% of raw, median of ${ROUNDS} interleaved pairs (>= 90%); 256-entry batches, 1 appender: steady state ${f0(steady.entriesPerSec)} entries/s, growing log ${f0(growing.entriesPerSec)} entries/s, medians of ${ROUNDS} interleaved rounds (>= 500000; encoding ${f0(steady.appendNs)} ns/entry = ${f1(1000 / steady.appendNs)}M entries/s without I/O); reopen ${f0(ro.openMs)} ms (< 2000)`,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
