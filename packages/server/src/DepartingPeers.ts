import type { NodeId } from '@keel/core';
import type { PeerTransport } from '@keel/transport-zmq';

/**
 * Applies configuration changes to the peer transport, keeping members that left connected for a
 * grace period before forgetting them.
 */
export class DepartingPeers {
  private readonly timers = new Map<NodeId, NodeJS.Timeout>();

  constructor(
    private readonly transport: PeerTransport,
    private readonly graceMs: number,
  ) {}

  update(next: ReadonlyMap<NodeId, string>): void {
    for (const [id, t] of this.timers) {
      if (next.has(id)) {
        clearTimeout(t);
        this.timers.delete(id);
      }
    }
    const keep = new Map(next);
    for (const id of this.transport.peerIds()) {
      if (next.has(id)) continue;
      keep.set(id, ''); // '' keeps the address the transport knows
      if (!this.timers.has(id)) {
        const t = setTimeout(() => {
          this.timers.delete(id);
          this.transport.removePeer(id);
        }, this.graceMs);
        t.unref();
        this.timers.set(id, t);
      }
    }
    this.transport.setPeers(keep);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
