import { type Message, MessageType, type NodeId } from '@keel/core';

/**
 * Round-trip times to peers, measured from the leader's own heartbeats (no probe traffic of its
 * own): the time from a heartbeat handed to the transport until the peer's answer arrives. It
 * includes both members' event loops, which is what a slow peer costs the leader.
 *
 * Heartbeats carry no sequence number, so the first unanswered one is timed and the next answer
 * closes it: with one heartbeat every heartbeat interval and round trips far shorter than that,
 * each answer is its heartbeat's. A heartbeat lost on the way (a dropped connection, a leader
 * that stepped down meanwhile) would make a later answer look late: one unanswered for `lostMs`
 * (an election timeout) is given up, and a disconnection forgets what was sent.
 */
export class HeartbeatRtt {
  /** Per peer: when the oldest unanswered heartbeat was sent (performance.now()). */
  private readonly sentAt = new Map<NodeId, number>();

  constructor(
    private readonly lostMs: number,
    private readonly observe: (peer: NodeId, seconds: number) => void,
  ) {}

  /** Messages about to be handed to the transport. */
  sending(msgs: readonly Message[]): void {
    let now = -1;
    for (const m of msgs) {
      if (m.type !== MessageType.Heartbeat) continue;
      if (now < 0) now = performance.now();
      const pending = this.sentAt.get(m.to);
      if (pending === undefined || now - pending > this.lostMs) this.sentAt.set(m.to, now);
    }
  }

  /** A message received from a peer. */
  received(m: Message): void {
    if (m.type !== MessageType.HeartbeatResp) return;
    const t0 = this.sentAt.get(m.from);
    if (t0 === undefined) return;
    this.sentAt.delete(m.from);
    const ms = performance.now() - t0;
    if (ms <= this.lostMs) this.observe(m.from, ms / 1000);
  }

  /** The connection to `peer` dropped: heartbeats in flight to it may never be answered. */
  disconnected(peer: NodeId): void {
    this.sentAt.delete(peer);
  }
}
