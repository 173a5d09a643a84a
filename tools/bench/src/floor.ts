/**
 * The floor a replicated write cannot beat on this machine today, measured in the same run as the
 * load (issue #20): a raw `write + fdatasync` loop on the members' own data dirs, all at once (the
 * leader's fsync runs beside the followers'), and a ZeroMQ round trip over loopback. A commit at
 * one outstanding write needs at least max(leader fsync, follower fsync) + 2 round trips (client →
 * leader → followers and back), so `floor_ms` = fsync p50 + 2 × RTT p50, and a step's p50 is
 * reported as a multiple of it.
 */
import { close, fdatasync, open, unlink, write } from 'node:fs';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { Histogram, type LatencySummary } from './histogram.js';

export interface FsyncFloor {
  /** Directories written at once, one file each. */
  readonly dirs: number;
  /** Rounds completed: one `write + fdatasync` in every directory, concurrently. */
  readonly rounds: number;
  readonly bytes_per_write: number;
  /** Latency of a round (the slowest directory's write + fdatasync). */
  readonly round_ms: LatencySummary;
  /** CPU (user + system) of this process per write + fdatasync, µs. */
  readonly cpu_us_per_sync: number;
}

export interface RttFloor {
  readonly round_trips: number;
  readonly bytes: number;
  readonly rtt_ms: LatencySummary;
}

export interface FloorReport {
  readonly fsync: FsyncFloor | null;
  readonly rtt: RttFloor | null;
  /** fsync round p50 + 2 × RTT p50, ms; null when either part is missing. */
  readonly floor_ms: number | null;
}

export interface FloorOptions {
  /** Rounds of the fsync loop, at most (default 200). */
  readonly fsyncRounds?: number;
  /** Round trips, at most (default 1000). */
  readonly roundTrips?: number;
  /** Wall-clock budget of each part, ms (default 2000). */
  readonly budgetMs?: number;
  /** Bytes per write (default 4096: one page, as a WAL append of a small batch). */
  readonly bytes?: number;
}

const cb =
  <T>(res: (v: T) => void, rej: (e: Error) => void) =>
  (e: Error | null, v: T): void => {
    if (e) rej(e);
    else res(v);
  };

/** One `write + fdatasync` per directory per round, all directories at once, bounded in rounds and time. */
export async function measureFsyncFloor(dirs: readonly string[], o: FloorOptions = {}): Promise<FsyncFloor> {
  const maxRounds = o.fsyncRounds ?? 200;
  const budgetMs = o.budgetMs ?? 2000;
  const bytes = o.bytes ?? 4096;
  const buf = Buffer.alloc(bytes, 0x5a);
  const files = dirs.map((d, i) => join(d, `.keel-bench-floor-${process.pid}-${i}`));
  const fds: number[] = [];
  const hist = new Histogram();
  let rounds = 0;
  try {
    for (const f of files)
      fds.push(await new Promise<number>((res, rej) => open(f, 'w', 0o600, cb(res, rej))));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    while (rounds < maxRounds && performance.now() - t0 < budgetMs) {
      const start = performance.now();
      await Promise.all(
        fds.map(async (fd) => {
          await new Promise<number>((res, rej) => write(fd, buf, 0, bytes, rounds * bytes, cb(res, rej)));
          await new Promise<void>((res, rej) => fdatasync(fd, (e) => (e ? rej(e) : res())));
        }),
      );
      hist.recordUs((performance.now() - start) * 1000);
      rounds++;
    }
    const cpu = process.cpuUsage(cpu0);
    return {
      dirs: dirs.length,
      rounds,
      bytes_per_write: bytes,
      round_ms: hist.summaryMs(),
      cpu_us_per_sync: rounds === 0 ? 0 : Math.round((cpu.user + cpu.system) / (rounds * dirs.length)),
    };
  } finally {
    await Promise.all(fds.map((fd) => new Promise<void>((res) => close(fd, () => res()))));
    await Promise.all(files.map((f) => new Promise<void>((res) => unlink(f, () => res()))));
  }
}

/** Ping-pong between a DEALER and a ROUTER over 127.0.0.1, bounded in round trips and time. */
export async function measureZmqRtt(o: FloorOptions = {}): Promise<RttFloor> {
  const max = o.roundTrips ?? 1000;
  const budgetMs = o.budgetMs ?? 2000;
  const bytes = 256;
  const router = new zmq.Router({ linger: 0 });
  const dealer = new zmq.Dealer({ linger: 0 });
  const hist = new Histogram();
  let n = 0;
  try {
    await router.bind('tcp://127.0.0.1:0');
    dealer.connect(router.lastEndpoint!);
    const payload = Buffer.alloc(bytes, 1);
    const echo = (async () => {
      for await (const [id, msg] of router) await router.send([id!, msg!]);
    })().catch(() => {});
    // The first exchange waits for the connection; not counted.
    await dealer.send(payload);
    await dealer.receive();
    const t0 = performance.now();
    while (n < max && performance.now() - t0 < budgetMs) {
      const start = performance.now();
      await dealer.send(payload);
      await dealer.receive();
      hist.recordUs((performance.now() - start) * 1000);
      n++;
    }
    router.close();
    await echo;
  } finally {
    if (!router.closed) router.close();
    dealer.close();
  }
  return { round_trips: n, bytes, rtt_ms: hist.summaryMs() };
}

/** `fsync p50 + 2 × RTT p50`, rounded to µs. */
export function floorMs(fsync: FsyncFloor | null, rtt: RttFloor | null): number | null {
  if (fsync === null || rtt === null || fsync.rounds === 0 || rtt.round_trips === 0) return null;
  return Math.round((fsync.round_ms.p50 + 2 * rtt.rtt_ms.p50) * 1000) / 1000;
}

/** Both parts, one after the other (the round trip on a quiet disk). */
export async function measureFloor(dirs: readonly string[], o: FloorOptions = {}): Promise<FloorReport> {
  const fsync = dirs.length === 0 ? null : await measureFsyncFloor(dirs, o);
  const rtt = await measureZmqRtt(o);
  return { fsync, rtt, floor_ms: floorMs(fsync, rtt) };
}

/** A step's p50 as a multiple of the floor (2 decimals), or null without a floor. */
export function floorMultiple(p50Ms: number, floor: number | null): number | null {
  if (floor === null || floor <= 0) return null;
  return Math.round((p50Ms / floor) * 100) / 100;
}

/**
 * CPU µs per completed operation: `cpuPercent` (% of one core, summed over processes) over
 * `opsPerSec`. Null when either is unknown or nothing completed.
 */
export function cpuUsPerOp(cpuPercent: number | null, opsPerSec: number): number | null {
  if (cpuPercent === null || !(opsPerSec > 0)) return null;
  return Math.round(((cpuPercent / 100) * 1e6) / opsPerSec);
}
