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
