import { ErrorCode, KeelError } from '../raft/errors.js';
import type { Message, NodeId } from '../raft/types.js';
import { PeerEvent, type Transport, type TransportHandlers } from './interfaces.js';

export interface LoopbackNetworkOptions {
  /**
   * How a sent batch is handed over later: never synchronously, because a member must not re-enter
   * its own driver from inside `send` (Transport.send never blocks, and the driver expects its inputs
   * to arrive as separate events). Default `queueMicrotask`; pass a Scheduler's `defer` to run a
   * loopback cluster in virtual time.
   */
  readonly defer?: (fn: () => void) => void;
}

/** One member's end of the network: registered by start(), gone after close(). */
interface Endpoint {
  handlers: TransportHandlers | null;
  closed: boolean;
}

/**
 * An in-memory network for a cluster whose members all live in one process: `transport(id)` gives
 * each member its `Transport`. A batch passed to `send` is delivered in order, after the current
 * job, to every addressee that is started and not closed; messages to anyone else are dropped, as
 * a real network drops them (Raft tolerates loss). Messages are handed over by reference, never
 * copied or encoded: like the log stores, receivers must not mutate them.
 *
 * Members see each other come and go through the transport's peer hints (`connected` when both
 * ends are started, `disconnected` when one closes), as they would with sockets.
 */
export class LoopbackNetwork {
  readonly #defer: (fn: () => void) => void;
  readonly #endpoints = new Map<NodeId, Endpoint>();
  #closed = false;

  constructor(options: LoopbackNetworkOptions = {}) {
    this.#defer = options.defer ?? queueMicrotask;
  }

  /**
   * The transport of member `id`. One at a time per id: once it is closed (the member crashed or
   * stopped), a new one may be taken for the member's next incarnation.
   */
  transport(id: NodeId): Transport {
    if (this.#closed) throw new KeelError(ErrorCode.InvalidArgument, 'the loopback network is closed');
    if (this.#endpoints.get(id)?.closed === false) {
      throw new KeelError(ErrorCode.InvalidArgument, `member ${id} already has an open loopback transport`);
    }
    const self: Endpoint = { handlers: null, closed: false };
    this.#endpoints.set(id, self);
    return {
      start: (handlers) => {
        if (self.closed || self.handlers !== null) return;
        self.handlers = handlers;
        this.#announce(id, PeerEvent.Connected);
      },
      send: (messages) => {
        if (self.closed || messages.length === 0) return;
        // Copy the batch: the caller may reuse its array once send returns.
        const batch = messages.slice();
        this.#defer(() => this.#deliver(self, batch));
      },
      close: async () => {
        this.#closeEndpoint(id, self);
      },
    };
  }

  /** Closes every member's transport: nothing is delivered afterwards. */
  close(): void {
    this.#closed = true;
    for (const [id, ep] of this.#endpoints) this.#closeEndpoint(id, ep);
  }

  #closeEndpoint(id: NodeId, ep: Endpoint): void {
    if (ep.closed) return;
    ep.closed = true;
    const wasStarted = ep.handlers !== null;
    ep.handlers = null;
    if (wasStarted) this.#announce(id, PeerEvent.Disconnected);
  }

  /** Tells every other started member that `id` came up or went down, after the current job. */
  #announce(id: NodeId, event: PeerEvent): void {
    const peers: Array<[NodeId, TransportHandlers]> = [];
    for (const [other, ep] of this.#endpoints) {
      if (other !== id && ep.handlers !== null) peers.push([other, ep.handlers]);
    }
    const self = this.#endpoints.get(id);
    this.#defer(() => {
      for (const [other, h] of peers) {
        // Both ends may have changed meanwhile: a hint about a closed member is never delivered.
        if (this.#endpoints.get(other)?.handlers !== h) continue;
        h.peer(id, event);
        if (event === PeerEvent.Connected && self?.handlers) self.handlers.peer(other, event);
      }
    });
  }

  #deliver(from: Endpoint, batch: readonly Message[]): void {
    for (const m of batch) {
      // The sender closed after sending: its messages in flight are lost with it (and never
      // delivered as if from its next incarnation).
      if (from.closed) return;
      this.#endpoints.get(m.to)?.handlers?.message(m);
    }
  }
}
