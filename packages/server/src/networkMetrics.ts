import type { NodeId } from '@keel/core';
import type { PeerTransportMetrics } from '@keel/transport-zmq';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counter, gauge, histogram, mirror } from './metricKit.js';

/** Round trips on a LAN take tens of µs to ms; beyond a second a peer is as good as gone. */
const RTT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** Raft traffic between members: totals from the transport, per-peer bytes and round-trip times. */
export class NetworkMetrics {
  readonly messagesSent: Counter;
  readonly messagesReceived: Counter;
  readonly messagesDropped: Counter;
  readonly framesRejected: Counter;
  readonly peerSentBytes: Counter;
  readonly peerReceivedBytes: Counter;
  readonly peerRoundTrip: Histogram;
  readonly peerLag: Gauge;
  /** The peers whose series exist now. */
  private peers = new Set<NodeId>();

  constructor(r: Registry) {
    this.messagesSent = counter(r, 'keel_peer_messages_sent_total', 'Raft messages handed to the transport');
    this.messagesReceived = counter(r, 'keel_peer_messages_received_total', 'Raft messages received');
    this.messagesDropped = counter(
      r,
      'keel_peer_messages_dropped_total',
      'Raft messages dropped by the transport, by reason',
      ['reason'],
    );
    this.framesRejected = counter(
      r,
      'keel_peer_frames_rejected_total',
      'Peer frames rejected, none of their messages applied (invalid routing id, unknown peer, misaddressed, decode failure)',
      ['reason'],
    );
    this.peerSentBytes = counter(r, 'keel_network_peer_sent_bytes_total', 'Frame bytes sent to each peer', [
      'peer',
    ]);
    this.peerReceivedBytes = counter(
      r,
      'keel_network_peer_received_bytes_total',
      'Frame bytes received from each peer (applied frames only)',
      ['peer'],
    );
    this.peerRoundTrip = histogram(
      r,
      'keel_network_peer_round_trip_time_seconds',
      'Leader only: from a heartbeat sent to a peer until its answer arrives (both event loops included)',
      RTT_BUCKETS,
      ['peer'],
    );
    this.peerLag = gauge(
      r,
      'keel_raft_peer_lag_entries',
      "Leader only (0 elsewhere): entries of the leader's log the peer is not known to hold (last index - match index)",
      ['peer'],
    );
  }

  /**
   * Mirrors the transport's counts (at scrape time). `peers`: the other members of the current
   * configuration; each has its per-peer series from the moment it is known, and loses them once
   * it has left.
   */
  refresh(t: PeerTransportMetrics, peers: readonly NodeId[], lag: (peer: NodeId) => number): void {
    mirror(this.messagesSent, t.sent);
    mirror(this.messagesReceived, t.received);
    // Every reason of the transport's closed sets is present in these records, at 0 until counted.
    for (const [reason, n] of Object.entries(t.dropped)) mirror(this.messagesDropped, n, { reason });
    for (const [reason, n] of Object.entries(t.framesRejected)) mirror(this.framesRejected, n, { reason });
    this.setPeers(peers);
    for (const peer of this.peers) {
      const b = t.peerBytes.get(peer);
      mirror(this.peerSentBytes, b?.sent ?? 0, { peer });
      mirror(this.peerReceivedBytes, b?.received ?? 0, { peer });
      this.peerLag.set({ peer }, lag(peer));
    }
  }

  /** Creates the series of peers that joined, drops those of peers that left. */
  private setPeers(peers: readonly NodeId[]): void {
    const now = new Set(peers);
    for (const peer of this.peers) {
      if (now.has(peer)) continue;
      this.peerSentBytes.remove({ peer });
      this.peerReceivedBytes.remove({ peer });
      this.peerRoundTrip.remove({ peer });
      this.peerLag.remove({ peer });
    }
    for (const peer of now) if (!this.peers.has(peer)) this.peerRoundTrip.zero({ peer });
    this.peers = now;
  }

  /** A round trip to `peer` measured (ignored for a peer not, or no longer, in the configuration). */
  observeRoundTrip(peer: NodeId, seconds: number): void {
    if (this.peers.has(peer)) this.peerRoundTrip.observe({ peer }, seconds);
  }
}
