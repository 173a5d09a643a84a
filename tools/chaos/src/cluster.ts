import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  alive,
  type Endpoint,
  fetchStatus,
  freeBasePort,
  killPid,
  MEMBER_PROGRAM,
  type MemberStatus,
  sleep,
  trackPid,
  untrackPid,
} from '@keel/bench';
import { NETNS_PORTS, NetnsNetwork } from './netns.js';
import { type Network, ProxyNetwork } from './network.js';

const HOST = '127.0.0.1';

/** What `/status` says, plus the state hash this tool relies on. */
export interface ChaosStatus extends MemberStatus {
  readonly stateHash?: string;
  /** The configuration the member has. */
  readonly conf?: { readonly voters: readonly string[]; readonly learners: readonly string[] };
}

export interface ChaosMember extends Endpoint {
  readonly index: number;
  /** The peer address it advertises (its own `--peers` entry): what a re-add puts in the configuration. */
  readonly peer: string;
  readonly dataDir: string;
  readonly walDir: string;
  /** Where the member publishes its WAL's fsynced offsets (KEEL_TEST_WAL_SYNC_FILE). */
  readonly syncFile: string;
  readonly argv: readonly string[];
  /** Extra environment: with proxies, `KEEL_TEST_PEER_ROUTES` (its links, whatever the configuration says). */
  readonly env: Readonly<Record<string, string>>;
  pid: number;
  /** Stopped with SIGSTOP and not yet continued. */
  paused: boolean;
}

export interface ChaosClusterOptions {
  readonly nodes: number;
  /** Data dirs go here (one per member). */
  readonly dir: string;
  readonly netns: boolean;
  readonly seed: number;
  /** Extra member flags (e.g. a shorter election timeout). */
  readonly memberArgs?: readonly string[];
}

/**
 * Real `keel node` processes (apps/node's build) wired so the nemesis owns the network between
 * them: through a `ProxyNetwork` (member i dials j at the proxy of link i→j, j binds its real port
 * with --peer-bind) or inside network namespaces. Clients and this tool's status polls reach members
 * directly. PIDs are tracked with @keel/bench's process registry, so every exit path kills them.
 */
export class ChaosCluster {
  /**
   * Members that exited on their own — not killed or stopped by the nemesis: a non-zero exit code
   * (a fatal error, a WAL that refused to open) — with the last lines of their log.
   */
  readonly crashes: {
    readonly id: string;
    readonly pid: number;
    readonly code: number;
    readonly logTail: string;
  }[] = [];

  private constructor(
    readonly members: readonly ChaosMember[],
    readonly network: Network,
  ) {}

  static async start(o: ChaosClusterOptions): Promise<ChaosCluster> {
    if (!existsSync(MEMBER_PROGRAM)) {
      throw new Error(`${MEMBER_PROGRAM} is missing; build first: pnpm build`);
    }
    let network: Network;
    let address: (i: number, kind: 'peer' | 'client' | 'http') => string;
    let bind: (i: number, kind: 'peer' | 'client' | 'http') => string;
    if (o.netns) {
      const net = NetnsNetwork.create(o.nodes);
      network = net;
      address = (i, kind) => net.hostPort(i, NETNS_PORTS[kind]);
      bind = (_i, kind) => `0.0.0.0:${NETNS_PORTS[kind]}`;
    } else {
      const base = await freeBasePort(o.nodes);
      const port = { peer: base, client: base + 100, http: base + 200 };
      address = (i, kind) => `${HOST}:${port[kind] + i + 1}`;
      bind = address;
      network = await ProxyNetwork.start({
        nodes: o.nodes,
        host: HOST,
        peerPort: (i) => port.peer + i + 1,
        seed: o.seed,
      });
    }
    const ids = Array.from({ length: o.nodes }, (_v, i) => `n${i + 1}`);
    const clients = ids.map((id, i) => `${id}=${address(i, 'client')}`).join(',');
    const members = ids.map((id, i): ChaosMember => {
      const dataDir = join(o.dir, id);
      const peers = ids
        .map((other, j) => `${other}=${j === i ? address(i, 'peer') : network.peerAddress(i, j)}`)
        .join(',');
      // The configuration carries one address per member, the proposer's view, but with proxies
      // member i reaches j at the proxy of link i→j only: routes keep each member on its own links
      // after membership changes and snapshots.
      const routes = ids
        .flatMap((other, j) => (j === i ? [] : [`${other}=${network.peerAddress(i, j)}`]))
        .join(',');
      const args = [
        MEMBER_PROGRAM,
        '--id',
        id,
        '--peers',
        peers,
        '--peer-bind',
        bind(i, 'peer'),
        '--clients',
        clients,
        '--client-bind',
        bind(i, 'client'),
        '--http',
        bind(i, 'http'),
        '--data-dir',
        dataDir,
        '--log-format',
        'json',
        ...(o.memberArgs ?? []),
      ];
      const argv =
        network instanceof NetnsNetwork
          ? [...network.wrapper(i), process.execPath, ...args]
          : [process.execPath, ...args];
      return {
        id,
        index: i,
        client: address(i, 'client'),
        http: address(i, 'http'),
        peer: address(i, 'peer'),
        env: network instanceof ProxyNetwork ? { KEEL_TEST_PEER_ROUTES: routes } : {},
        dataDir,
        walDir: join(dataDir, 'wal'),
        syncFile: join(dataDir, 'wal-sync.json'),
        argv,
        pid: 0,
        paused: false,
      };
    });
    const cluster = new ChaosCluster(members, network);
    try {
      for (const m of members) cluster.spawn(m);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  private spawn(m: ChaosMember): void {
    mkdirSync(m.dataDir, { recursive: true });
    const fd = openSync(join(m.dataDir, 'member.log'), 'a');
    try {
      const [cmd, ...args] = m.argv as [string, ...string[]];
      const child = spawn(cmd, args, {
        stdio: ['ignore', fd, fd],
        cwd: m.dataDir,
        env: { ...process.env, ...m.env, KEEL_TEST_WAL_SYNC_FILE: m.syncFile },
      });
      if (child.pid === undefined) throw new Error(`could not start member ${m.id}`);
      child.on('error', () => {});
      const pid = child.pid;
      m.pid = pid;
      m.paused = false;
      trackPid(pid);
      child.once('exit', (code) => {
        untrackPid(pid);
        // A signal exit (SIGKILL, SIGTERM's graceful exit is code 0) is the nemesis's doing.
        if (code !== null && code !== 0) {
          this.crashes.push({ id: m.id, pid, code, logTail: logTail(join(m.dataDir, 'member.log')) });
        }
      });
    } finally {
      closeSync(fd);
    }
  }

  member(id: string): ChaosMember {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  running(m: ChaosMember): boolean {
    return m.pid > 0 && alive(m.pid);
  }

  signal(m: ChaosMember, signal: NodeJS.Signals): boolean {
    const ok = killPid(m.pid, signal);
    if (signal === 'SIGSTOP') m.paused = ok;
    if (signal === 'SIGCONT' || signal === 'SIGKILL') m.paused = false;
    return ok;
  }

  /** Waits (bounded) until the member's process is gone. */
  async waitGone(m: ChaosMember, timeoutMs = 10_000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (alive(m.pid) && performance.now() < deadline) await sleep(5);
    return !alive(m.pid);
  }

  /** Starts a stopped member again with its command line and data dir. */
  restart(m: ChaosMember): void {
    if (this.running(m)) throw new Error(`${m.id} (pid ${m.pid}) still runs`);
    this.spawn(m);
  }

  async statuses(timeoutMs = 500): Promise<(ChaosStatus | null)[]> {
    // `?hash=1`: the member computes its state hash only when asked.
    return Promise.all(
      this.members.map((m) => fetchStatus(m, timeoutMs, '?hash=1') as Promise<ChaosStatus | null>),
    );
  }

  /**
   * The member that says it leads, or null. During a partition a deposed leader may still say so
   * until CheckQuorum steps it down: the one with the highest term wins.
   */
  async leader(): Promise<number | null> {
    const st = await this.statuses(300);
    let best: number | null = null;
    for (const [i, s] of st.entries()) {
      if (s !== null && s.role === 'leader' && (best === null || s.term > st[best]!.term)) best = i;
    }
    return best;
  }

  /**
   * The leader, waiting (bounded) for one: a fault that needs a leader — a transfer hands its
   * leadership over — must not be dropped because a pause or a partition left none for a moment,
   * or because a busy machine answered /status late. Null only after `timeoutMs` without one.
   */
  async awaitLeader(timeoutMs: number): Promise<number | null> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const leader = await this.leader();
      if (leader !== null || performance.now() >= deadline) return leader;
      await sleep(100);
    }
  }

  /** SIGCONT + SIGTERM, SIGKILL after `graceMs`; by PID only. Closes the network last. */
  async stop(graceMs = 3000): Promise<void> {
    const live = this.members.filter((m) => this.running(m));
    for (const m of live) {
      killPid(m.pid, 'SIGCONT');
      killPid(m.pid, 'SIGTERM');
    }
    const deadline = performance.now() + graceMs;
    while (live.some((m) => alive(m.pid)) && performance.now() < deadline) await sleep(20);
    for (const m of live) if (alive(m.pid)) killPid(m.pid, 'SIGKILL');
    const hard = performance.now() + 5000;
    while (live.some((m) => alive(m.pid)) && performance.now() < hard) await sleep(20);
    for (const m of live) untrackPid(m.pid);
    await this.network.close();
  }
}

/** The last few lines of a member's log (pino JSON), for a report. */
function logTail(path: string, lines = 3): string {
  try {
    const text = readFileSync(path, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch {
    return '';
  }
}
