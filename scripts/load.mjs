#!/usr/bin/env node
// A background load for trying Keel (and its tests) on a busy machine: CPU spinners and fsync
// loops, bounded in time and in disk use, cleaned up on exit. A newcomer's machine is slower or
// busier than a quiet CI box; a test or a failover figure that only holds on a quiet machine is a
// bug, and this is how to see it.
//
//   node scripts/load.mjs [--cpu N] [--fsync N] [--duration 10m] [--dir D] [--quiet]
//
// --cpu N      worker threads that spin (default: one per core)
// --fsync N    loops that each overwrite a 4-64 KiB block of a 16 MiB file and fdatasync it (default 1)
// --duration   how long to run at most (default 10m; 30s, 5m, 1h, or plain seconds)
// --dir D      where the fsync files go (default: a fresh directory under the OS temp dir)
// Stops on SIGINT/SIGTERM or when the duration ends; prints what it did as one JSON line.
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fdatasyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const FILE_BYTES = 16 * 1024 * 1024;

if (!isMainThread) {
  // A spinner: burn CPU in 50 ms slices, yielding between them so the thread still ends promptly.
  if (workerData.kind === 'cpu') {
    let stop = false;
    parentPort.on('message', () => {
      stop = true;
    });
    let x = 0;
    const slice = () => {
      const until = performance.now() + 50;
      while (performance.now() < until) x = (x * 1103515245 + 12345) % 2147483648;
      if (!stop) setImmediate(slice);
      else parentPort.postMessage({ x });
    };
    slice();
  } else {
    // An fsync loop: synchronous writes and fdatasync on this thread, as a database would do.
    let stop = false;
    parentPort.on('message', () => {
      stop = true;
    });
    const fd = openSync(workerData.file, 'w');
    const block = randomBytes(64 * 1024);
    let syncs = 0;
    let bytes = 0;
    const turn = () => {
      const until = performance.now() + 50;
      while (performance.now() < until) {
        const len = 4096 * (1 + Math.floor(Math.random() * 16));
        const pos = 4096 * Math.floor(Math.random() * ((FILE_BYTES - len) / 4096));
        writeSync(fd, block, 0, len, pos);
        fdatasyncSync(fd);
        syncs++;
        bytes += len;
      }
      if (!stop) setImmediate(turn);
      else {
        closeSync(fd);
        parentPort.postMessage({ syncs, bytes });
      }
    };
    turn();
  }
} else {
  const args = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = args.indexOf(name);
    if (i < 0) return fallback;
    const v = args[i + 1];
    if (v === undefined || v.startsWith('--')) fail(`${name} needs a value`);
    return v;
  };
  function fail(msg) {
    process.stderr.write(`load: ${msg}\n`);
    process.exit(2);
  }
  for (const a of args) {
    if (a.startsWith('--') && !['--cpu', '--fsync', '--duration', '--dir', '--quiet'].includes(a)) {
      fail(`unknown option ${a} (see the comment at the top of scripts/load.mjs)`);
    }
  }
  const count = (name, fallback) => {
    const n = Number(opt(name, String(fallback)));
    if (!Number.isInteger(n) || n < 0 || n > 64) fail(`${name} takes a whole number from 0 to 64`);
    return n;
  };
  const parseDuration = (text) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
    if (m === null) fail(`--duration takes a duration like 30s, 5m or 1h (got '${text}')`);
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'];
    return Number(m[1]) * unit;
  };
  const cpu = count('--cpu', availableParallelism());
  const fsync = count('--fsync', 1);
  const durationMs = parseDuration(opt('--duration', '10m'));
  const quiet = args.includes('--quiet');
  const ownDir = opt('--dir', null) === null;
  const dir = ownDir ? mkdtempSync(join(tmpdir(), 'keel-load-')) : opt('--dir', null);
  if (!ownDir) {
    try {
      // One level only (the parent must exist): Node's recursive mkdir never ends on procfs.
      if (!existsSync(dir)) mkdirSync(dir);
      accessSync(dir, constants.W_OK);
    } catch (err) {
      process.stderr.write(`load: cannot use --dir ${dir}: ${err.message}\n`);
      process.exit(2);
    }
  }

  const workers = [];
  for (let i = 0; i < cpu; i++)
    workers.push(new Worker(new URL(import.meta.url), { workerData: { kind: 'cpu' } }));
  for (let i = 0; i < fsync; i++) {
    workers.push(
      new Worker(new URL(import.meta.url), {
        workerData: { kind: 'fsync', file: join(dir, `load-${i}.bin`) },
      }),
    );
  }
  const started = performance.now();

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearTimeout(timer);
    const results = await Promise.all(
      workers.map(
        (w) =>
          new Promise((resolve) => {
            w.once('message', resolve);
            w.once('error', () => resolve({}));
            w.once('exit', () => resolve({}));
            w.postMessage('stop');
          }),
      ),
    );
    await Promise.all(workers.map((w) => w.terminate()));
    const seconds = (performance.now() - started) / 1000;
    const syncs = results.reduce((s, r) => s + (r.syncs ?? 0), 0);
    const bytes = results.reduce((s, r) => s + (r.bytes ?? 0), 0);
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    else for (let i = 0; i < fsync; i++) rmSync(join(dir, `load-${i}.bin`), { force: true });
    process.stdout.write(
      `${JSON.stringify({ tool: 'keel-load', cpu, fsync, seconds: Number(seconds.toFixed(1)), fsyncsPerSecond: Math.round(syncs / seconds), writtenMiB: Math.round(bytes / 1048576) })}\n`,
    );
    process.exit(0);
  };
  const timer = setTimeout(stop, durationMs);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Last: a parent that waits for this line may signal at once, and the handlers are in place.
  if (!quiet)
    process.stderr.write(
      `load: ${cpu} CPU spinner(s), ${fsync} fsync loop(s) in ${dir}, for at most ${durationMs / 1000} s\n`,
    );
}
