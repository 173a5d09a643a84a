import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { memberProgramPath } from '@keel/node/program';
import {
  addressList,
  claimedLeader,
  fetchStatus,
  freeBasePort,
  LOOPBACK as HOST,
  killPid,
  launchMember,
  type MemberStatus,
  memberCommand,
  processAlive,
  sleep,
  stopPids,
  waitGone,
} from '@keel/ops';
import { NETNS_PORTS, NetnsNetwork } from './netns.js';
import { type Network, ProxyNetwork } from './network.js';

/** The member program: @keel/node's build (the tool names the app it runs; @keel/ops cannot). */
export const MEMBER_PROGRAM = memberProgramPath();

/** What `/status` says, polled with `?hash=1` so it carries the state hash this tool compares. */
export type ChaosStatus = MemberStatus;

export interface ChaosMember {
  readonly id: string;
  /** Client endpoint, `host:port`. */
  readonly client: string;
  /** HTTP (admin) endpoint, `host:port`. */
  readonly http: string;
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
 * directly. PIDs are tracked with @keel/ops's process registry, so every exit path kills them.
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
    const clients = addressList(ids, (_id, i) => address(i, 'client'));
    const members = ids.map((id, i): ChaosMember => {
      const dataDir = join(o.dir, id);
      const peers = addressList(ids, (_other, j) =>
        j === i ? address(i, 'peer') : network.peerAddress(i, j),
      );
      // The configuration carries one address per member, the proposer's view, but with proxies
      // member i reaches j at the proxy of link i→j only: routes keep each member on its own links
      // after membership changes and snapshots.
      const routes = ids
        .flatMap((other, j) => (j === i ? [] : [`${other}=${network.peerAddress(i, j)}`]))
        .join(',');
      const command = memberCommand({
        program: MEMBER_PROGRAM,
        id,
        peers,
        clients,
        http: bind(i, 'http'),
        dataDir,
        extraArgs: [
          '--peer-bind',
          bind(i, 'peer'),
          '--client-bind',
          bind(i, 'client'),
          ...(o.memberArgs ?? []),
        ],
      });
      const argv = network instanceof NetnsNetwork ? [...network.wrapper(i), ...command] : command;
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
    const p = launchMember({
      id: m.id,
      command: m.argv,
      cwd: m.dataDir,
      env: { ...process.env, ...m.env, KEEL_TEST_WAL_SYNC_FILE: m.syncFile },
      output: { logFile: join(m.dataDir, 'member.log') },
    });
    m.pid = p.pid;
    m.paused = false;
    void p.exited.then(({ code }) => {
      // A signal exit (SIGKILL, SIGTERM's graceful exit is code 0) is the nemesis's doing.
      if (code !== null && code !== 0) {
        this.crashes.push({ id: m.id, pid: p.pid, code, logTail: logTail(join(m.dataDir, 'member.log')) });
      }
    });
  }

  member(id: string): ChaosMember {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  running(m: ChaosMember): boolean {
    return m.pid > 0 && processAlive(m.pid);
  }

  signal(m: ChaosMember, signal: NodeJS.Signals): boolean {
    const ok = killPid(m.pid, signal);
    if (signal === 'SIGSTOP') m.paused = ok;
    if (signal === 'SIGCONT' || signal === 'SIGKILL') m.paused = false;
    return ok;
  }

  /** Waits (bounded) until the member's process is gone. */
  async waitGone(m: ChaosMember, timeoutMs = 10_000): Promise<boolean> {
    return waitGone(m.pid, timeoutMs);
  }

  /** Starts a stopped member again with its command line and data dir. */
  restart(m: ChaosMember): void {
    if (this.running(m)) throw new Error(`${m.id} (pid ${m.pid}) still runs`);
    this.spawn(m);
  }

  async statuses(timeoutMs = 500): Promise<(ChaosStatus | null)[]> {
    // `?hash=1`: the member computes its state hash only when asked.
    return Promise.all(this.members.map((m) => fetchStatus(m.http, timeoutMs, '?hash=1')));
  }

  /**
   * The member that says it leads, or null. During a partition a deposed leader may still say so
   * until CheckQuorum steps it down: the one with the highest term wins.
   */
  async leader(): Promise<number | null> {
    return claimedLeader(await this.statuses(300));
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
    await stopPids(
      this.members.filter((m) => this.running(m)).map((m) => m.pid),
      graceMs,
      5000,
    );
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
