/** The logging surface the transport uses; a pino logger (or a child of one) fits it as is. */
export interface TransportLogger {
  debug?(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: TransportLogger = {
  info() {},
  warn() {},
  error() {},
};

/**
 * Logs at most `burst` lines per key per window, then counts what it swallowed and reports the
 * count on the next line it lets through. Hostile input must not be able to flood the log.
 */
export class RateLimitedLog {
  private readonly windows = new Map<string, { start: number; logged: number; suppressed: number }>();

  constructor(
    private readonly logger: TransportLogger,
    private readonly burst = 5,
    private readonly windowMs = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  warn(key: string, obj: Record<string, unknown>, msg: string): void {
    const t = this.now();
    let w = this.windows.get(key);
    if (w === undefined || t - w.start >= this.windowMs) {
      const suppressed = w?.suppressed ?? 0;
      w = { start: t, logged: 0, suppressed: 0 };
      this.windows.set(key, w);
      if (suppressed > 0) obj = { ...obj, suppressed };
    }
    if (w.logged < this.burst) {
      w.logged++;
      this.logger.warn(obj, msg);
    } else {
      w.suppressed++;
    }
  }
}

/**
 * Logs the first event of each key and counts the rest: a peer or client retrying with a refused
 * CURVE key reconnects every few hundred ms, and one line per key says all there is to say. Past
 * `maxKeys` distinct keys (a flood of made-up keys) it falls back to `RateLimitedLog`.
 */
export class OncePerKeyLog {
  private readonly seen = new Map<string, number>();
  private readonly overflow: RateLimitedLog;

  constructor(
    private readonly logger: TransportLogger,
    private readonly maxKeys = 1024,
  ) {
    this.overflow = new RateLimitedLog(logger);
  }

  /** Logs `msg` unless `key` was logged before; returns how many times `key` was seen. */
  warn(key: string, obj: Record<string, unknown>, msg: string): number {
    const n = (this.seen.get(key) ?? 0) + 1;
    if (n > 1) {
      this.seen.set(key, n);
      return n;
    }
    if (this.seen.size >= this.maxKeys) {
      this.overflow.warn('overflow', obj, msg);
      return n;
    }
    this.seen.set(key, n);
    this.logger.warn({ ...obj, note: 'logged once per key; later refusals are only counted' }, msg);
    return n;
  }
}
