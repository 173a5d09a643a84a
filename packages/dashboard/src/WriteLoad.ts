import type { DashboardKv, LoadPoint, LoadView } from './types.js';

/** The bounds of a load started from the page: it must never swamp a laptop or run forever. */
export const LOAD_LIMITS = {
  maxRate: 5000,
  maxConcurrency: 64,
  maxDurationMs: 10 * 60_000,
  defaultRate: 200,
  defaultConcurrency: 8,
  defaultDurationMs: 60_000,
  /** Keys written: `load/0000` .. `load/0999`, so a long load does not grow the store. */
  keys: 1000,
} as const;

export interface LoadSettings {
  readonly rate: number;
  readonly concurrency: number;
  readonly durationMs: number;
}

/** Clamps what the page asked for into LOAD_LIMITS (a missing or odd value takes the default). */
export function loadSettings(input: Partial<Record<keyof LoadSettings, unknown>>): LoadSettings {
  const pick = (v: unknown, dflt: number, max: number): number =>
    typeof v === 'number' && Number.isFinite(v) && v >= 1 ? Math.min(Math.floor(v), max) : dflt;
  return {
    rate: pick(input.rate, LOAD_LIMITS.defaultRate, LOAD_LIMITS.maxRate),
    concurrency: pick(input.concurrency, LOAD_LIMITS.defaultConcurrency, LOAD_LIMITS.maxConcurrency),
    durationMs: pick(input.durationMs, LOAD_LIMITS.defaultDurationMs, LOAD_LIMITS.maxDurationMs),
  };
}

/** The value of a percentile of sorted numbers (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? null;
}

const HISTORY = 60;

/**
 * A write load in the dashboard's process: `concurrency` workers put small values at about
 * `rate` writes a second (a shared schedule of send times), for at most `durationMs`. It keeps
 * the latencies of the current second and closes a point of the chart each second.
 */
export class WriteLoad {
  private settings: LoadSettings = loadSettings({});
  private running = false;
  private stopAt = 0;
  private nextSendAt = 0;
  private seq = 0;
  private ok = 0;
  private failed = 0;
  private lastError: string | null = null;
  private window: number[] = [];
  private windowStart = Date.now();
  private history: LoadPoint[] = [];
  private last: LoadPoint = { at: Date.now(), writesPerSec: 0, p50Ms: null, p99Ms: null };
  private workers: Promise<void>[] = [];
  private kv: DashboardKv | null = null;
  /** Workers waiting for their send time: woken at once by stop(). */
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly open: () => DashboardKv) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(settings: LoadSettings): void {
    if (this.running) return;
    const kv = this.open(); // may throw (no member to write to): nothing has changed yet
    this.settings = settings;
    this.running = true;
    this.ok = 0;
    this.failed = 0;
    this.lastError = null;
    const now = Date.now();
    this.stopAt = now + settings.durationMs;
    this.nextSendAt = now;
    this.kv = kv;
    this.workers = Array.from({ length: settings.concurrency }, () => this.worker(kv));
  }

  /** Stops the workers, waits for the writes in flight (bounded by the client's deadline), closes the client. */
  async stop(): Promise<void> {
    this.running = false;
    for (const wake of [...this.sleepers]) wake();
    await Promise.all(this.workers);
    this.workers = [];
    const kv = this.kv;
    this.kv = null;
    await kv?.close();
  }

  /** Closes the point of the chart when a second has passed; call it often (every poll). */
  tick(now = Date.now()): void {
    if (this.running && now >= this.stopAt) void this.stop();
    if (now - this.windowStart < 1000) return;
    const sorted = [...this.window].sort((a, b) => a - b);
    const secs = (now - this.windowStart) / 1000;
    this.last = {
      at: now,
      writesPerSec: Math.round(this.window.length / secs),
      p50Ms: round(percentile(sorted, 50)),
      p99Ms: round(percentile(sorted, 99)),
    };
    this.history.push(this.last);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    this.window = [];
    this.windowStart = now;
  }

  view(): LoadView {
    return {
      running: this.running,
      rate: this.settings.rate,
      concurrency: this.settings.concurrency,
      ok: this.ok,
      failed: this.failed,
      writesPerSec: this.last.writesPerSec,
      p50Ms: this.last.p50Ms,
      p99Ms: this.last.p99Ms,
      history: this.history,
      lastError: this.lastError,
    };
  }

  private async worker(kv: DashboardKv): Promise<void> {
    const value = new Uint8Array(32).fill(0x61);
    while (this.running && Date.now() < this.stopAt) {
      // One schedule for all workers: each takes the next send time, so the total rate holds
      // whatever the concurrency (and a slow cluster just runs behind it, never bursts past it).
      const at = this.nextSendAt;
      this.nextSendAt = Math.max(at, Date.now() - 1000) + 1000 / this.settings.rate;
      const wait = at - Date.now();
      if (wait > 0) await this.sleep(wait);
      if (!this.running) break;
      const key = `load/${String(this.seq++ % LOAD_LIMITS.keys).padStart(4, '0')}`;
      const t0 = performance.now();
      try {
        await kv.put(key, value);
        this.ok += 1;
        this.window.push(performance.now() - t0);
      } catch (err) {
        this.failed += 1;
        this.lastError = (err as Error).message;
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}

function round(v: number | null): number | null {
  return v === null ? null : Math.round(v * 100) / 100;
}
