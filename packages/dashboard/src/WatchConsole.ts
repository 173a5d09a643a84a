import type { DashboardKv, WatchView } from './types.js';

/** Events the page is shown (the newest); older ones are dropped, the count says how many came. */
const SHOWN = 50;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * The console's one watch: a key or a prefix followed from now, its newest events kept for the
 * page. One at a time (a new one replaces it); the KV client resumes it on another member after
 * a failure, so a killed member shows as nothing more than a pause in the stream.
 */
export class WatchConsole {
  private abort: AbortController | null = null;
  private state: WatchView | null = null;
  private events: WatchView['events'][number][] = [];

  constructor(
    private readonly kv: () => DashboardKv,
    private readonly changed: () => void,
  ) {}

  /** Starts watching `key` (every key starting with it when `prefix`); returns what to log. */
  start(key: string, prefix: boolean): string {
    this.stop();
    const abort = new AbortController();
    this.abort = abort;
    this.events = [];
    this.state = { key, prefix, count: 0, revision: null, events: [], error: null };
    void this.follow(key, prefix, abort.signal);
    return `watching ${prefix ? `keys starting with ${key}` : key}`;
  }

  /** Ends the watch (the member's cursor is cancelled); the last events stay shown. */
  stop(): void {
    this.abort?.abort();
    this.abort = null;
  }

  view(): WatchView | null {
    return this.state;
  }

  private async follow(key: string, prefix: boolean, signal: AbortSignal): Promise<void> {
    try {
      for await (const batch of this.kv().watch(key, { prefix, signal })) {
        if (signal.aborted || this.state === null) return;
        for (const e of batch.events) {
          this.events.push({
            type: e.type,
            key: utf8.decode(e.kv.key),
            value: e.type === 'put' ? utf8.decode(e.kv.value) : null,
            revision: e.kv.modRevision,
          });
        }
        if (this.events.length > SHOWN) this.events.splice(0, this.events.length - SHOWN);
        this.state = {
          ...this.state,
          count: this.state.count + batch.events.length,
          revision: batch.revision,
          events: [...this.events],
        };
        this.changed();
      }
    } catch (err) {
      if (signal.aborted || this.state === null) return;
      this.state = { ...this.state, error: (err as Error).message };
      this.changed();
    }
  }
}
