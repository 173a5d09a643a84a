import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Network } from './network.js';
import type { LinkMode } from './proxy.js';
import type { Link } from './topology.js';

/**
 * `--netns`: real hosts in miniature. Each member runs in its own network namespace with its own
 * address on a bridge (10.a.b.11, .12, ...; the bridge, and so this process, is 10.a.b.1). Members
 * bind 0.0.0.0 and advertise their own address, so the run also proves that bind and advertised
 * addresses may differ. A cut link i→j is a blackhole route to j's address inside i's namespace
 * (a `prohibit` route when the partition rejects instead of dropping).
 *
 * TCP needs both directions, so a route cut in one namespace stalls every connection between the
 * two members: here an asymmetric partition behaves like a symmetric one once TCP notices (only the
 * proxy network separates the directions). Delays and random resets are not offered.
 *
 * Everything created carries a random tag and is removed by `close()`, on process exit, and on
 * SIGINT/SIGTERM (the exit hook runs synchronously).
 */
export const NETNS_PORTS = { peer: 7101, client: 7201, http: 7301 } as const;

/** Why `--netns` cannot run here, or null when it can. */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return `--netns needs Linux (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return '--netns needs root (network namespaces, veth pairs and a bridge are created)';
  }
  const ip = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (ip.error !== undefined || ip.status !== 0) return "--netns needs the 'ip' command (iproute2)";
  return null;
}

interface Created {
  readonly namespaces: string[];
  bridge: string | null;
}

const live = new Set<Created>();
let hookInstalled = false;

function cleanup(c: Created): void {
  for (const ns of c.namespaces.splice(0)) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  if (c.bridge !== null) spawnSync('ip', ['link', 'del', c.bridge], { stdio: 'ignore' });
  c.bridge = null;
  live.delete(c);
}

function installHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => {
    for (const c of [...live]) cleanup(c);
  });
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

export class NetnsNetwork implements Network {
  readonly kind = 'netns';
  readonly linkModes = false;
  private cut = new Set<string>();

  private constructor(
    private readonly created: Created,
    readonly subnet: string,
    readonly namespaces: readonly string[],
  ) {}

  static create(nodes: number): NetnsNetwork {
    const why = netnsUnavailable();
    if (why !== null) throw new Error(why);
    installHook();
    const tag = randomBytes(3).toString('hex');
    const r = randomBytes(2);
    const subnet = `10.${200 + (r[0]! % 50)}.${r[1]!}`;
    const created: Created = { namespaces: [], bridge: null };
    live.add(created);
    const namespaces: string[] = [];
    try {
      const bridge = `kbr${tag}`;
      ip('link', 'add', bridge, 'type', 'bridge');
      created.bridge = bridge;
      ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
      ip('link', 'set', bridge, 'up');
      for (let i = 0; i < nodes; i++) {
        const ns = `keel-${tag}-n${i + 1}`;
        ip('netns', 'add', ns);
        created.namespaces.push(ns);
        namespaces.push(ns);
        const host = `kv${tag}${i + 1}`;
        const peer = `kp${tag}${i + 1}`;
        ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer);
        ip('link', 'set', peer, 'netns', ns);
        ip('link', 'set', host, 'master', bridge);
        ip('link', 'set', host, 'up');
        ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
        ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${subnet}.${11 + i}/24`, 'dev', peer);
        ip('netns', 'exec', ns, 'ip', 'link', 'set', peer, 'up');
      }
    } catch (err) {
      cleanup(created);
      const e = err as { stderr?: Buffer; message: string };
      throw new Error(`cannot set up network namespaces: ${e.stderr?.toString().trim() || e.message}`);
    }
    return new NetnsNetwork(created, subnet, namespaces);
  }

  /** Member i's own address. */
  address(index: number): string {
    return `${this.subnet}.${11 + index}`;
  }

  /** Where this process (in the root namespace, on the bridge) reaches member i's port. */
  hostPort(index: number, port: number): string {
    return `${this.address(index)}:${port}`;
  }

  /** The command prefix that runs a program inside member i's namespace. */
  wrapper(index: number): string[] {
    return ['ip', 'netns', 'exec', this.namespaces[index]!];
  }

  peerAddress(_from: number, to: number): string {
    return this.hostPort(to, NETNS_PORTS.peer);
  }

  async apply(links: readonly Link[], mode: LinkMode): Promise<void> {
    if (mode.kind !== 'cut' && mode.kind !== 'reset' && mode.kind !== 'pass') {
      throw new Error(`the netns network cannot make links ${mode.kind}`);
    }
    // A cut drops packets (blackhole); a reset-style cut refuses them (prohibit: ICMP errors).
    const type = mode.kind === 'reset' ? 'prohibit' : 'blackhole';
    const want = new Set(mode.kind === 'pass' ? [] : links.map((l) => `${l.from}:${l.to}:${type}`));
    for (const key of [...this.cut]) if (!want.has(key)) this.route('del', key);
    for (const key of want) if (!this.cut.has(key)) this.route('add', key);
  }

  async heal(): Promise<void> {
    await this.apply([], { kind: 'pass' });
  }

  async close(): Promise<void> {
    cleanup(this.created);
  }

  private route(op: 'add' | 'del', key: string): void {
    const [f, t, type] = key.split(':') as [string, string, string];
    const from = Number(f);
    ip('netns', 'exec', this.namespaces[from]!, 'ip', 'route', op, type, `${this.address(Number(t))}/32`);
    if (op === 'add') this.cut.add(key);
    else this.cut.delete(key);
  }
}
