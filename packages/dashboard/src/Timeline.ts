import type { TimelineEvent } from './types.js';

/** The last `capacity` events, oldest first: a bounded ring, so a dashboard left open for days stays small. */
export class Timeline {
  private readonly events: TimelineEvent[] = [];
  private version = 0;

  constructor(private readonly capacity = 200) {}

  add(event: TimelineEvent): void {
    this.events.push(event);
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
    this.version += 1;
  }

  /** The newest `n` events, oldest first. */
  last(n: number): TimelineEvent[] {
    return this.events.slice(-n);
  }

  /** Grows on every add: a cheap way to see that something happened. */
  get changes(): number {
    return this.version;
  }
}
