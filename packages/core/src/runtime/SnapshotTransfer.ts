import type {
  NodeId,
  SnapAckMessage,
  SnapChunkMessage,
  SnapshotMessage,
  SnapshotMeta,
} from '../raft/types.js';
import type { Scheduler, SnapshotSink, SnapshotStore, TimerHandle } from './interfaces.js';
import { ChunkReader, type SnapshotChunks } from './snapshotBytes.js';

export interface SnapshotTransferOptions {
  /** Bytes per chunk. */
  readonly chunkBytes: number;
  /** Chunks in flight (sent, not acknowledged) per follower. */
  readonly windowChunks: number;
  /** With no acknowledged progress for this long, resend from the receiver's acknowledged offset. */
  readonly retryMs: number;
  /** Resends without progress before the transfer is reported failed. */
  readonly maxRetries: number;
}

export interface SnapshotTransferHost {
  readonly id: NodeId;
  readonly scheduler: Scheduler;
  readonly store: SnapshotStore;
  /** Sends driver-level messages (chunks, acknowledgements). */
  send(messages: readonly (SnapChunkMessage | SnapAckMessage)[]): void;
  /**
   * A snapshot is completely stored here: hand it to the engine. `chunks` are its bytes (null for
   * a stale snapshot, which is not received), for the install: the store's latest may already be
   * a newer snapshot that the engine did not take.
   */
  deliver(message: SnapshotMessage, chunks: SnapshotChunks | null): void;
  /** The outcome of a transfer this member sent (the engine's reportSnapshot). */
  report(peer: NodeId, ok: boolean): void;
  /** The local commit index: a snapshot at or below it is stale and not worth receiving. */
  committed(): number;
  /** The local term, stamped on acknowledgements. */
  term(): number;
  fail(err: Error): void;
}

interface Outgoing {
  readonly to: NodeId;
  readonly term: number;
  readonly meta: SnapshotMeta;
  readonly data: ChunkReader;
  /** The receiver holds [0, acked). */
  acked: number;
  /** Chunks up to here were sent. */
  sent: number;
  /** Timer firings without progress. */
  retries: number;
  progressed: boolean;
  timer: TimerHandle | null;
}

interface Incoming {
  readonly from: NodeId;
  readonly meta: SnapshotMeta;
  readonly total: number;
  readonly sink: SnapshotSink;
  /** The bytes so far, kept for the install (the sink may be a file). */
  readonly chunks: Uint8Array[];
  received: number;
  /** All bytes are in; the sink is saving them. */
  finishing: boolean;
}

/**
 * Moves snapshots between drivers (§7's InstallSnapshot, chunked): the engine only asks for a
 * snapshot to be sent (a `snapshot` message) and, on the receiving side, is stepped with that
 * message once every byte is durably stored. Flow control keeps `windowChunks` chunks in flight;
 * the receiver acknowledges the contiguous prefix it holds, and after a loss the sender resumes
 * from that offset. With no progress over `maxRetries` retry periods the transfer is reported
 * failed and the engine retries later. Chunks are bulk traffic: a transport lets heartbeats and
 * votes overtake them.
 */
export class SnapshotTransfer {
  private readonly outgoing = new Map<NodeId, Outgoing>();
  private incoming: Incoming | null = null;

  constructor(
    private readonly host: SnapshotTransferHost,
    private readonly options: SnapshotTransferOptions,
  ) {}

  /** Transfers in progress from this member (for status pages). */
  get sending(): number {
    return this.outgoing.size;
  }

  // ----------------------------------------------------------------------------------- sender

  /** The engine asked for `m.meta` (or newer) to be brought to `m.to`. */
  start(m: SnapshotMessage): void {
    this.cancel(m.to);
    const stored = this.host.store.load();
    if (stored === null || stored.meta.index < m.meta.index) {
      // The engine names only snapshots the store completed; anything else is a broken contract,
      // but failing the transfer (the engine retries) is enough.
      this.host.scheduler.defer(() => this.host.report(m.to, false));
      return;
    }
    const t: Outgoing = {
      to: m.to,
      term: m.term,
      meta: stored.meta,
      data: new ChunkReader(stored.chunks),
      acked: 0,
      sent: 0,
      retries: 0,
      progressed: false,
      timer: null,
    };
    this.outgoing.set(m.to, t);
    this.pump(t);
    this.arm(t);
  }

  onAck(m: SnapAckMessage): void {
    const t = this.outgoing.get(m.from);
    if (t === undefined || m.index !== t.meta.index || m.snapTerm !== t.meta.term) return;
    if (m.reject) {
      this.finish(t, false);
      return;
    }
    if (m.next >= t.data.length) {
      this.finish(t, true);
      return;
    }
    if (m.next > t.acked) {
      t.acked = m.next;
      t.progressed = true;
      t.retries = 0;
    } else if (m.next < t.acked) {
      // The receiver lost what it had (it restarted): start over from what it holds.
      t.acked = m.next;
    }
    if (t.sent < t.acked) t.sent = t.acked;
    this.pump(t);
  }

  /** Abandons every outgoing transfer (this member no longer leads); the engine forgot them. */
  cancelAll(): void {
    for (const to of [...this.outgoing.keys()]) this.cancel(to);
  }

  private cancel(to: NodeId): void {
    const t = this.outgoing.get(to);
    if (t === undefined) return;
    if (t.timer !== null) this.host.scheduler.clearTimeout(t.timer);
    this.outgoing.delete(to);
  }

  private finish(t: Outgoing, ok: boolean): void {
    this.cancel(t.to);
    this.host.report(t.to, ok);
  }

  /** Sends chunks while the window has room. */
  private pump(t: Outgoing): void {
    const total = t.data.length;
    const chunk = this.options.chunkBytes;
    const limit = t.acked + this.options.windowChunks * chunk;
    const out: SnapChunkMessage[] = [];
    // An empty snapshot still takes one (empty) chunk.
    while (t.sent < Math.min(total, limit) || (total === 0 && t.sent === 0 && out.length === 0)) {
      const end = Math.min(total, t.sent + chunk);
      out.push({
        type: 'snapChunk',
        from: this.host.id,
        to: t.to,
        term: t.term,
        meta: t.meta,
        offset: t.sent,
        total,
        data: t.data.slice(t.sent, end),
      });
      t.sent = end;
      if (total === 0) break;
    }
    if (out.length > 0) this.host.send(out);
  }

  private arm(t: Outgoing): void {
    t.timer = this.host.scheduler.setTimeout(() => {
      t.timer = null;
      if (this.outgoing.get(t.to) !== t) return;
      if (t.progressed) {
        t.progressed = false;
      } else if (++t.retries > this.options.maxRetries) {
        this.finish(t, false);
        return;
      }
      // Chunks or acknowledgements may have been lost: resume from what the receiver confirmed.
      t.sent = t.acked;
      this.pump(t);
      this.arm(t);
    }, this.options.retryMs);
  }

  // --------------------------------------------------------------------------------- receiver

  onChunk(m: SnapChunkMessage): void {
    const meta = m.meta;
    const ack = (next: number): void => {
      this.host.send([
        {
          type: 'snapAck',
          from: this.host.id,
          to: m.from,
          term: this.host.term(),
          index: meta.index,
          snapTerm: meta.term,
          next,
          reject: false,
        },
      ]);
    };
    if (meta.index <= this.host.committed()) {
      // Stale: the engine answers with what we hold instead of installing it.
      const cur = this.incoming;
      if (cur !== null && !cur.finishing && cur.meta.index <= meta.index) this.abortIncoming();
      this.host.deliver({ type: 'snapshot', from: m.from, to: this.host.id, term: m.term, meta }, null);
      ack(m.total);
      return;
    }
    let cur = this.incoming;
    if (
      cur !== null &&
      (cur.meta.index !== meta.index || cur.meta.term !== meta.term || cur.from !== m.from)
    ) {
      if (cur.finishing) return; // one save at a time; the sender retries
      this.abortIncoming();
      cur = null;
    }
    if (cur === null) {
      if (m.offset !== 0) {
        ack(0); // we hold nothing of it: start over
        return;
      }
      cur = {
        from: m.from,
        meta,
        total: m.total,
        sink: this.host.store.receive(meta, m.total),
        chunks: [],
        received: 0,
        finishing: false,
      };
      this.incoming = cur;
    }
    if (cur.finishing) return;
    if (m.offset === cur.received && m.total === cur.total) {
      // One copy (the message's bytes may be a view of a transport buffer), shared by the sink
      // and the install.
      const data = m.data.slice();
      cur.sink.write(m.offset, data);
      cur.chunks.push(data);
      cur.received += m.data.length;
    }
    if (cur.received < cur.total) {
      ack(cur.received);
      return;
    }
    cur.finishing = true;
    const done = cur;
    done.sink.finish((err) => {
      if (this.incoming === done) this.incoming = null;
      if (err !== null) {
        this.host.fail(err);
        return;
      }
      // Only now may the engine see it: the bytes are durable.
      this.host.deliver(
        { type: 'snapshot', from: m.from, to: this.host.id, term: m.term, meta },
        done.chunks,
      );
      ack(done.total);
    });
  }

  /** Stops everything (the node stops). */
  close(): void {
    this.cancelAll();
    this.abortIncoming();
  }

  private abortIncoming(): void {
    const cur = this.incoming;
    if (cur === null || cur.finishing) return;
    this.incoming = null;
    cur.sink.abort();
  }
}
