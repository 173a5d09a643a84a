/**
 * How long the client waits for a member's answer before hedging (sending the same request to
 * another member as well): a few times the recent p99 of answered attempts, so a healthy but slow
 * cluster is not flooded with duplicates, while a silent member costs little more than a normal
 * answer. Bounded on both sides; `fallbackMs` until enough answers were seen.
 */
export class HedgeDelay {
  private readonly samples: number[] = [];
  private next = 0;
  private cached: number | null = null;

  constructor(
    private readonly bounds: { readonly min: number; readonly max: number },
    private readonly fallbackMs: number,
    private readonly window = 256,
    private readonly factor = 3,
  ) {}

  /** An attempt answered after `ms`. */
  observe(ms: number): void {
    if (this.samples.length < this.window) this.samples.push(ms);
    else this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.window;
    this.cached = null;
  }

  /** The current delay in milliseconds. */
  get ms(): number {
    if (this.samples.length < 16) return this.clamp(this.fallbackMs);
    if (this.cached === null) {
      const sorted = [...this.samples].sort((a, b) => a - b);
      const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] as number;
      this.cached = this.clamp(p99 * this.factor);
    }
    return this.cached;
  }

  private clamp(ms: number): number {
    return Math.min(this.bounds.max, Math.max(this.bounds.min, ms));
  }
}
