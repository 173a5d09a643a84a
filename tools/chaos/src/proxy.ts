import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * What a link does to the bytes of its connections:
 * - `pass`: forwards both directions as they come.
 * - `cut`: a blackhole. Bytes are held (both sockets stop being read, so the kernel buffers fill
 *   and the sender's TCP window closes), nothing is reset, new connections are accepted but not
 *   connected onward. Healing resumes the flow: like a network that dropped packets, TCP
 *   delivers what was sent once the path is back, unless the sender gave up first.
 * - `reset`: every connection is reset (RST), and new ones are reset as soon as they arrive.
 * - `slow`: every chunk is delayed by `delayMs` (plus up to `jitterMs`), in order.
 * - `flaky`: passes bytes, but resets each connection with probability `resetsPerSecond` per second.
 */
export type LinkMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'cut' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'slow'; readonly delayMs: number; readonly jitterMs?: number }
  | { readonly kind: 'flaky'; readonly resetsPerSecond: number };

export const PASS: LinkMode = { kind: 'pass' };

export interface LinkProxyOptions {
  /** Where the proxy listens; port 0 picks a free one (read `port` after `listen()`). */
  readonly listenHost?: string;
  readonly listenPort?: number;
  /** The real address behind the link. */
  readonly targetHost: string;
  readonly targetPort: number;
  /** Randomness for `flaky` (a seeded source keeps fault schedules reproducible). */
  readonly random?: () => number;
  /** A label for diagnostics, e.g. `n1->n2`. */
  readonly name?: string;
}

export interface LinkCounters {
  /** Connections accepted so far. */
  accepted: number;
  /** Connections reset by the proxy (reset and flaky modes). */
  resets: number;
  /** Bytes forwarded from the connecting side to the target, and back. */
  bytesForward: number;
  bytesBackward: number;
}

/** One accepted connection and its onward half. */
interface Pair {
  readonly client: Socket;
  upstream: Socket | null;
  closed: boolean;
  /** Chunks waiting for their delay to pass, per direction (slow mode). */
  readonly delayed: { forward: Buffer[]; backward: Buffer[] };
}

const FLAKY_CHECK_MS = 100;

/**
 * A TCP proxy for one directed link between two members. Member i reaches member j only through
 * the proxy of link i→j, so the nemesis can cut, reset, slow or disturb that one direction. (With
 * ZeroMQ, i's messages to j travel on i's DEALER connection to j's ROUTER: one link, one proxied
 * connection, so an asymmetric partition is a real one.)
 */
export class LinkProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<Pair>();
  private current: LinkMode = PASS;
  private flakyTimer: NodeJS.Timeout | null = null;
  private readonly random: () => number;
  readonly counters: LinkCounters = { accepted: 0, resets: 0, bytesForward: 0, bytesBackward: 0 };
  port = 0;

  constructor(private readonly options: LinkProxyOptions) {
    this.random = options.random ?? Math.random;
  }

  get name(): string {
    return this.options.name ?? `:${this.port}->${this.options.targetHost}:${this.options.targetPort}`;
  }

  get mode(): LinkMode {
    return this.current;
  }

  /** Open connections right now. */
  get connections(): number {
    return this.pairs.size;
  }

  async listen(): Promise<number> {
    const server = createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(
        { host: this.options.listenHost ?? '127.0.0.1', port: this.options.listenPort ?? 0, exclusive: true },
        () => {
          server.off('error', reject);
          resolve();
        },
      );
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    return this.port;
  }

  /** Switches the link's behaviour; applies to open connections at once. */
  setMode(mode: LinkMode): void {
    this.current = mode;
    if (this.flakyTimer !== null) {
      clearInterval(this.flakyTimer);
      this.flakyTimer = null;
    }
    for (const p of [...this.pairs]) this.applyMode(p);
    if (mode.kind === 'flaky') {
      this.flakyTimer = setInterval(() => {
        const p = (mode.resetsPerSecond * FLAKY_CHECK_MS) / 1000;
        for (const pair of [...this.pairs]) if (this.random() < p) this.resetPair(pair);
      }, FLAKY_CHECK_MS);
      this.flakyTimer.unref();
    }
  }

  async close(): Promise<void> {
    if (this.flakyTimer !== null) clearInterval(this.flakyTimer);
    this.flakyTimer = null;
    for (const p of [...this.pairs]) this.destroyPair(p);
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((r) => server.close(() => r()));
  }

  // ---------------------------------------------------------------------------------------------

  private accept(client: Socket): void {
    this.counters.accepted++;
    const pair: Pair = { client, upstream: null, closed: false, delayed: { forward: [], backward: [] } };
    this.pairs.add(pair);
    client.setNoDelay(true);
    client.on('error', () => this.destroyPair(pair));
    client.on('close', () => this.destroyPair(pair));
    client.on('data', (chunk: Buffer) => this.carry(pair, chunk, 'forward'));
    this.applyMode(pair);
  }

  /** Brings one connection in line with the current mode. */
  private applyMode(pair: Pair): void {
    if (pair.closed) return;
    const mode = this.current;
    if (mode.kind === 'reset') {
      this.resetPair(pair);
      return;
    }
    if (mode.kind === 'cut') {
      pair.client.pause();
      pair.upstream?.pause();
      return;
    }
    if (pair.upstream === null) this.connectUpstream(pair);
    pair.client.resume();
    pair.upstream?.resume();
    if (mode.kind !== 'slow') this.flushDelayed(pair);
  }

  private connectUpstream(pair: Pair): void {
    const up = createConnection({ host: this.options.targetHost, port: this.options.targetPort });
    pair.upstream = up;
    up.setNoDelay(true);
    up.on('error', () => this.destroyPair(pair));
    up.on('close', () => this.destroyPair(pair));
    up.on('data', (chunk: Buffer) => this.carry(pair, chunk, 'backward'));
    // Bytes the client sent before the link was up wait in the client socket (paused on connect).
  }

  private carry(pair: Pair, chunk: Buffer, dir: 'forward' | 'backward'): void {
    if (pair.closed) return;
    const mode = this.current;
    if (mode.kind === 'slow') {
      const queue = pair.delayed[dir];
      queue.push(chunk);
      const delay = mode.delayMs + (mode.jitterMs ?? 0) * this.random();
      setTimeout(() => {
        // Chunks leave in arrival order: each timer releases the oldest one still waiting.
        const next = queue.shift();
        if (next !== undefined) this.deliver(pair, next, dir);
      }, delay).unref();
      return;
    }
    this.deliver(pair, chunk, dir);
  }

  private deliver(pair: Pair, chunk: Buffer, dir: 'forward' | 'backward'): void {
    if (pair.closed) return;
    const to = dir === 'forward' ? pair.upstream : pair.client;
    if (to === null) return;
    if (dir === 'forward') this.counters.bytesForward += chunk.length;
    else this.counters.bytesBackward += chunk.length;
    to.write(chunk);
  }

  private flushDelayed(pair: Pair): void {
    for (const dir of ['forward', 'backward'] as const) {
      const q = pair.delayed[dir];
      while (q.length > 0) this.deliver(pair, q.shift()!, dir);
    }
  }

  private resetPair(pair: Pair): void {
    if (pair.closed) return;
    this.counters.resets++;
    pair.closed = true;
    this.pairs.delete(pair);
    pair.client.resetAndDestroy();
    pair.upstream?.resetAndDestroy();
  }

  private destroyPair(pair: Pair): void {
    if (pair.closed) return;
    pair.closed = true;
    this.pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  }
}
