import {
  type Message,
  type NodeId,
  PeerEvent,
  type SeededRng,
  type Transport,
  type TransportHandlers,
} from '@keel/core';
import type { SimHost } from './SimHost.js';
import type { SimScheduler } from './SimScheduler.js';
import { chance, uniform } from './simRng.js';

/** How the network misbehaves right now. `heal()` puts every field back to its default. */
export interface NetworkFaults {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice (the copy takes its own path). */
  dupRate: number;
  /** Off: each directed link is FIFO. On: every message takes its own delay, so order is lost. */
  reorder: boolean;
  /** Extra latency, drawn per message from [0, extraDelayMs). */
  extraDelayMs: number;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
}

export interface SimNetworkOptions {
  readonly scheduler: SimScheduler;
  readonly rng: SeededRng;
  /** One-way latency is base + [0, jitter) ms. */
  readonly baseLatencyMs?: number;
  readonly jitterMs?: number;
  /** Called with each message as it is handed to a receiver, and each loss (for traces). */
  /**
   * Sends every message through this codec (encode at the sender, decode at the receiver), as a
   * real transport would. Without it, messages travel as shallow copies.
   */
  readonly wire?: { encode(msg: Message): Uint8Array; decode(frame: Uint8Array): Message };
  readonly onDeliver?: (msg: Message) => void;
  readonly onDrop?: (msg: Message, why: string) => void;
}

interface Endpoint {
  readonly host: SimHost;
  handlers: TransportHandlers | null;
  /** What this member was last told about each peer (true = connected). */
  readonly view: Map<NodeId, boolean>;
}

const defaultFaults = (): NetworkFaults => ({ dropRate: 0, dupRate: 0, reorder: false, extraDelayMs: 0 });

/**
 * One in-memory network shared by every simulated member. Links are directed, so a partition may
 * be asymmetric (A hears B, B does not hear A). Members learn of links going down or up through
 * `PeerEvent` hints, as a real transport would report broken connections.
 */
export class SimNetwork {
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  faults: NetworkFaults = defaultFaults();
  private readonly endpoints = new Map<NodeId, Endpoint>();
  /** Cut directed links, keyed `from>to`. */
  private readonly cut = new Set<string>();
  /** Latest arrival time scheduled per directed link (FIFO unless reordering). */
  private readonly lastArrival = new Map<string, number>();
  private readonly sched: SimScheduler;
  private readonly rng: SeededRng;
  private readonly base: number;
  private readonly jitter: number;

  constructor(private readonly options: SimNetworkOptions) {
    this.sched = options.scheduler;
    this.rng = options.rng;
    this.base = options.baseLatencyMs ?? 0.5;
    this.jitter = options.jitterMs ?? 1.5;
  }

  /** Registers a member's host; do this once per member before creating transports. */
  addHost(host: SimHost): void {
    this.endpoints.set(host.id, { host, handlers: null, view: new Map() });
  }

  get members(): NodeId[] {
    return [...this.endpoints.keys()];
  }

  /** A transport for the host's current incarnation. */
  transport(id: NodeId): Transport {
    const ep = this.endpoint(id);
    const incarnation = ep.host.incarnation;
    let open = true;
    return {
      start: (handlers) => {
        if (!open || ep.host.incarnation !== incarnation) return;
        ep.handlers = handlers;
        ep.view.clear();
        for (const peer of this.endpoints.keys()) if (peer !== id) ep.view.set(peer, true);
        this.refreshViews();
      },
      send: (messages) => {
        if (!open || ep.host.incarnation !== incarnation) return;
        for (const m of messages) this.send(m);
      },
      close: () => {
        open = false;
        if (ep.host.incarnation === incarnation) ep.handlers = null;
        return Promise.resolve();
      },
    };
  }

  /** The member crashed or restarted: its handlers are gone and peers hear about it. */
  hostChanged(id: NodeId): void {
    const ep = this.endpoint(id);
    if (!ep.host.up) ep.handlers = null;
    this.refreshViews();
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cut.has(`${from}>${to}`);
  }

  /** Cuts from→to only (an asymmetric fault: to→from still works). */
  cutLink(from: NodeId, to: NodeId): void {
    if (from !== to) this.cut.add(`${from}>${to}`);
    this.refreshViews();
  }

  /** Splits the members into groups; links inside a group work, links between groups are cut. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    const groupOf = new Map<NodeId, number>();
    groups.forEach((g, i) => {
      for (const id of g) groupOf.set(id, i);
    });
    for (const a of this.endpoints.keys()) {
      for (const b of this.endpoints.keys()) {
        if (a !== b && groupOf.get(a) !== groupOf.get(b)) this.cut.add(`${a}>${b}`);
      }
    }
    this.refreshViews();
  }

  /** Cuts every link to and from `id`. */
  isolate(id: NodeId): void {
    for (const other of this.endpoints.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
    this.refreshViews();
  }

  /**
   * The partial partition of the 2020 Cloudflare outage: `left` and `right` cannot talk to each
   * other, but both still reach every member in neither list (the bridge), which may then relay
   * leadership between the halves.
   */
  bridge(left: readonly NodeId[], right: readonly NodeId[]): void {
    for (const a of left) {
      for (const b of right) {
        this.cut.add(`${a}>${b}`);
        this.cut.add(`${b}>${a}`);
      }
    }
    this.refreshViews();
  }

  /** Restores every link and turns every fault off. */
  heal(): void {
    this.cut.clear();
    this.faults = defaultFaults();
    this.refreshViews();
  }

  /** Restores links only; loss/duplication/delay settings stay. */
  healLinks(): void {
    this.cut.clear();
    this.refreshViews();
  }

  /**
   * Tells `id` that `peer` disconnected (or connected) although nothing changed: transports give
   * hints, and hints can be wrong. Safety must never depend on them.
   */
  falseHint(id: NodeId, peer: NodeId, event: PeerEvent): void {
    const ep = this.endpoint(id);
    if (ep.handlers === null) return;
    const handlers = ep.handlers;
    ep.host.run(() => handlers.peer(peer, event));
  }

  /** Copies of a message may sit in queues; no receiver must share objects with the sender. */
  private copy(m: Message): Message {
    const wire = this.options.wire;
    if (wire !== undefined) return wire.decode(wire.encode(m));
    return m.type === 'app' ? { ...m, entries: m.entries.slice() } : { ...m };
  }

  private send(m: Message): void {
    this.stats.sent++;
    const link = `${m.from}>${m.to}`;
    if (this.cut.has(link)) {
      this.drop(m, 'link cut');
      return;
    }
    if (!this.endpoints.has(m.to)) {
      this.drop(m, 'unknown member');
      return;
    }
    const f = this.faults;
    if (chance(this.rng, f.dropRate)) {
      this.drop(m, 'lost');
      return;
    }
    const now = this.sched.now();
    let arrival = now + this.latency();
    if (!f.reorder) {
      const last = this.lastArrival.get(link) ?? 0;
      if (arrival < last) arrival = last;
      this.lastArrival.set(link, arrival);
    }
    const msg = this.copy(m);
    this.sched.at(arrival, () => this.deliver(msg));
    if (chance(this.rng, f.dupRate)) {
      this.stats.duplicated++;
      const dup = this.copy(m);
      this.sched.at(now + this.latency(), () => this.deliver(dup));
    }
  }

  private latency(): number {
    const f = this.faults;
    const spread = f.reorder ? this.jitter * 10 : this.jitter;
    return (
      this.base +
      uniform(this.rng, 0, spread) +
      (f.extraDelayMs > 0 ? uniform(this.rng, 0, f.extraDelayMs) : 0)
    );
  }

  private deliver(m: Message): void {
    // A link cut while the message was on the wire loses it (the connection broke).
    if (this.cut.has(`${m.from}>${m.to}`)) {
      this.drop(m, 'link cut in flight');
      return;
    }
    const ep = this.endpoints.get(m.to);
    if (ep === undefined || !ep.host.up || ep.handlers === null) {
      this.drop(m, 'receiver down');
      return;
    }
    const handlers = ep.handlers;
    ep.host.run(() => {
      this.stats.delivered++;
      this.options.onDeliver?.(m);
      handlers.message(m);
    });
  }

  private drop(m: Message, why: string): void {
    this.stats.dropped++;
    this.options.onDrop?.(m, why);
  }

  private endpoint(id: NodeId): Endpoint {
    const ep = this.endpoints.get(id);
    if (ep === undefined) throw new Error(`unknown member ${id}`);
    return ep;
  }

  /**
   * Recomputes what every live member should believe about each peer and reports the changes.
   * Connected means: our link to the peer is up and the peer's process is running (a paused peer
   * still holds its connections).
   */
  private refreshViews(): void {
    for (const [id, ep] of this.endpoints) {
      const handlers = ep.handlers;
      if (handlers === null || !ep.host.up) continue;
      for (const [peer, peerEp] of this.endpoints) {
        if (peer === id) continue;
        const now = !this.cut.has(`${id}>${peer}`) && peerEp.host.up;
        if (ep.view.get(peer) === now) continue;
        ep.view.set(peer, now);
        const event = now ? PeerEvent.Connected : PeerEvent.Disconnected;
        // Hints arrive after the fact, as the transport notices.
        ep.host.after(this.base, () => handlers.peer(peer, event));
      }
    }
  }
}
