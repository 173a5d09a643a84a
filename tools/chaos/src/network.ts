import { SeededRng } from '@keel/core';
import { type LinkMode, LinkProxy, PASS } from './proxy.js';
import { allLinks, type Link, linkName } from './topology.js';

/**
 * How members reach each other, and how the nemesis breaks it. Two implementations: TCP proxies
 * per directed link (`ProxyNetwork`, everywhere) and network namespaces with blackhole routes
 * (`NetnsNetwork`, root on Linux).
 */
export interface Network {
  readonly kind: 'proxy' | 'netns';
  /** Whether links can be slowed and disturbed, not only cut. */
  readonly linkModes: boolean;
  /** The address member `from` dials to reach member `to`'s peer port. */
  peerAddress(from: number, to: number): string;
  /** Sets every link: the listed ones to `mode`, all others back to pass. */
  apply(links: readonly Link[], mode: LinkMode): Promise<void>;
  /** Every link back to pass. */
  heal(): Promise<void>;
  close(): Promise<void>;
}

export interface ProxyNetworkOptions {
  readonly nodes: number;
  readonly host: string;
  /** Member i's real peer port (what it binds with --peer-bind). */
  readonly peerPort: (index: number) => number;
  readonly seed: number;
}

/** One `LinkProxy` per directed link; member i's `--peers` names j at the proxy of link i→j. */
export class ProxyNetwork implements Network {
  readonly kind = 'proxy';
  readonly linkModes = true;

  private constructor(
    private readonly host: string,
    private readonly proxies: ReadonlyMap<string, LinkProxy>,
  ) {}

  static async start(o: ProxyNetworkOptions): Promise<ProxyNetwork> {
    const rng = new SeededRng(o.seed);
    const proxies = new Map<string, LinkProxy>();
    try {
      for (const l of allLinks(o.nodes)) {
        const p = new LinkProxy({
          listenHost: o.host,
          targetHost: o.host,
          targetPort: o.peerPort(l.to),
          random: () => rng.float(),
          name: linkName(l),
        });
        proxies.set(linkName(l), p);
        await p.listen();
      }
    } catch (err) {
      await Promise.allSettled([...proxies.values()].map((p) => p.close()));
      throw err;
    }
    return new ProxyNetwork(o.host, proxies);
  }

  proxy(l: Link): LinkProxy {
    return this.proxies.get(linkName(l))!;
  }

  peerAddress(from: number, to: number): string {
    return `${this.host}:${this.proxy({ from, to }).port}`;
  }

  async apply(links: readonly Link[], mode: LinkMode): Promise<void> {
    const chosen = new Set(links.map(linkName));
    for (const [name, p] of this.proxies) p.setMode(chosen.has(name) ? mode : PASS);
  }

  async heal(): Promise<void> {
    for (const p of this.proxies.values()) p.setMode(PASS);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.proxies.values()].map((p) => p.close()));
  }
}
