import type { Message } from '@keel/core';
import { MessageType } from '@keel/core';

/** Why a message was not sent. */
export const DropReason = {
  /** The peer's queue was at its message or byte limit. */
  QueueFull: 'queue-full',
  /** One message larger than a frame may be. */
  Oversized: 'oversized',
  /** Addressed to a member that is not in the configuration. */
  UnknownPeer: 'unknown-peer',
  /** Queued for a peer whose connection went down: stale by the time it could be delivered. */
  Disconnected: 'disconnected',
  /** ZeroMQ refused the frame. */
  SendFailed: 'send-failed',
  /** The transport was closed. */
  Closed: 'closed',
  /** The member is isolated from its peers on purpose (fault injection, `isolate(true)`). */
  Isolated: 'isolated',
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

export interface PeerQueueLimits {
  /** AppendEntries messages waiting for one peer. */
  readonly maxMessages: number;
  /** Bytes (upper bound of their encoding) of AppendEntries waiting for one peer. */
  readonly maxBytes: number;
  /** Control messages (everything but AppendEntries) waiting for one peer. */
  readonly maxControlMessages: number;
}

/** A FIFO with an O(1) amortized shift. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): number {
    const n = this.length;
    this.items = [];
    this.head = 0;
    return n;
  }
}

interface Queued {
  readonly message: Message;
  readonly size: number;
}

/**
 * What waits to be sent to one peer, in two lanes. AppendEntries and snapshot chunks go in the bulk lane, everything
 * else (heartbeats, votes, responses, read-index, timeout-now) in the control lane, which is
 * drained first: a heartbeat never waits behind megabytes of entries, so followers do not start
 * elections while the leader is merely busy. Order is preserved within each lane. When a lane is
 * full the new message is dropped (tail drop): Raft retransmits what matters.
 */
export class PeerQueue {
  private readonly control = new Fifo<Queued>();
  private readonly bulk = new Fifo<Queued>();
  private bulkBytes = 0;

  constructor(private readonly limits: PeerQueueLimits) {}

  get length(): number {
    return this.control.length + this.bulk.length;
  }

  get bytes(): number {
    return this.bulkBytes;
  }

  /** Queues `message` (of encoded size at most `size`); returns false when it was dropped. */
  push(message: Message, size: number): boolean {
    if (message.type === MessageType.App || message.type === MessageType.SnapChunk) {
      if (this.bulk.length >= this.limits.maxMessages || this.bulkBytes + size > this.limits.maxBytes)
        return false;
      this.bulk.push({ message, size });
      this.bulkBytes += size;
    } else {
      if (this.control.length >= this.limits.maxControlMessages) return false;
      this.control.push({ message, size });
    }
    return true;
  }

  /**
   * Takes what fits in one frame of `budget` bytes and `maxCount` messages: control lane first,
   * then the bulk lane. Always takes at least one message when any is queued and fits.
   */
  take(budget: number, maxCount: number, out: Message[]): void {
    for (const lane of [this.control, this.bulk]) {
      for (;;) {
        const next = lane.peek();
        if (next === undefined || out.length >= maxCount || next.size > budget) break;
        lane.shift();
        if (lane === this.bulk) this.bulkBytes -= next.size;
        budget -= next.size;
        out.push(next.message);
      }
    }
  }

  /** Empties both lanes; returns how many messages were dropped. */
  clear(): number {
    this.bulkBytes = 0;
    return this.control.clear() + this.bulk.clear();
  }
}
