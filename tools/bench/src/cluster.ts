import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memberProgramPath } from '@keel/node/program';
import {
  addressList,
  freeBasePort,
  LOOPBACK as HOST,
  killPid,
  launchMember,
  memberCommand,
  memberPorts,
  processAlive,
  stopPids,
  waitGone,
} from '@keel/ops';
import { type Endpoint, waitForCatchUp } from './member.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The member program the bench runs: @keel/node's build (a tool names the app; @keel/ops cannot). */
export const MEMBER_PROGRAM = memberProgramPath();

export interface ClusterOptions {
  readonly nodes: number;
  /** Extra member flags, e.g. `--election-timeout 12 --tick 1`. */
  readonly memberArgs?: readonly string[];
  /** Node.js flags for the member processes, e.g. `--cpu-prof --cpu-prof-dir=<dir>`. */
  readonly nodeArgs?: readonly string[];
  readonly basePort?: number;
  /** Where the members' data dirs go (default: a fresh temp dir, deleted on stop). */
  readonly dir?: string;
  readonly settleTimeoutMs?: number;
}

export interface LocalMember extends Endpoint {
  pid: number;
  readonly args: readonly string[];
  readonly dataDir: string;
  child: ChildProcess | null;
}

/**
 * A cluster of real `keel node` processes (apps/node's dist/main.js) with fresh data dirs, started
 * and stopped by the bench. Members are spawned directly (not through `keel cluster up`) so the
 * bench knows every PID at once and can crash, freeze and restart members itself.
 */
export class LocalCluster {
  private constructor(
    readonly dir: string,
    private readonly ownDir: boolean,
    readonly members: LocalMember[],
  ) {}

  static async start(opts: ClusterOptions): Promise<LocalCluster> {
    if (!existsSync(MEMBER_PROGRAM)) {
      throw new Error(`${MEMBER_PROGRAM} is missing; build first: pnpm exec turbo run build`);
    }
    const base = opts.basePort ?? (await freeBasePort(opts.nodes));
    const ownDir = opts.dir === undefined;
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'keel-bench-'));
    const ids = Array.from({ length: opts.nodes }, (_v, i) => `n${i + 1}`);
    const peers = addressList(ids, (_id, i) => `${HOST}:${memberPorts(base, i + 1).peer}`);
    const clients = addressList(ids, (_id, i) => `${HOST}:${memberPorts(base, i + 1).client}`);
    const members: LocalMember[] = ids.map((id, i) => {
      const ports = memberPorts(base, i + 1);
      const dataDir = join(dir, id);
      const [, ...command] = memberCommand({
        program: MEMBER_PROGRAM,
        id,
        peers,
        clients,
        http: `${HOST}:${ports.http}`,
        dataDir,
        extraArgs: opts.memberArgs ?? [],
      });
      return {
        id,
        client: `${HOST}:${ports.client}`,
        http: `${HOST}:${ports.http}`,
        pid: 0,
        dataDir,
        child: null,
        args: [...(opts.nodeArgs ?? []), ...command],
      };
    });
    const cluster = new LocalCluster(dir, ownDir, members);
    try {
      for (const m of members) cluster.spawnMember(m);
      await waitForCatchUp(members, opts.settleTimeoutMs ?? 20_000);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  private spawnMember(m: LocalMember): void {
    const p = launchMember({
      id: m.id,
      command: [process.execPath, ...m.args],
      cwd: m.dataDir,
      output: { logFile: join(m.dataDir, 'member.log') },
    });
    m.pid = p.pid;
    m.child = p.child;
  }

  member(id: string): LocalMember {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  signal(id: string, signal: NodeJS.Signals): void {
    const m = this.member(id);
    if (!killPid(m.pid, signal)) throw new Error(`could not send ${signal} to ${id} (pid ${m.pid})`);
  }

  /** Waits (bounded) until the member's process has exited. */
  async waitGone(id: string, timeoutMs = 5000): Promise<void> {
    const m = this.member(id);
    if (!(await waitGone(m.pid, timeoutMs)))
      throw new Error(`${id} (pid ${m.pid}) still runs ${timeoutMs} ms after the signal`);
  }

  /** Starts a member again with its command line and data dir (after a crash). */
  restart(id: string): void {
    const m = this.member(id);
    if (processAlive(m.pid)) throw new Error(`${id} (pid ${m.pid}) still runs`);
    this.spawnMember(m);
  }

  /**
   * Stops every member: SIGCONT + SIGTERM, then SIGKILL after `graceMs`; by PID only. Removes the
   * data dirs when the bench created them.
   */
  async stop(graceMs = 3000): Promise<void> {
    await stopPids(
      this.members.map((m) => m.pid),
      graceMs,
      3000,
    );
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Endpoints of a running cluster: from a `keel cluster` file (`cluster.json`) or a list
 * `host:clientPort/host:httpPort,...`.
 */
export function endpointsFromClusterFile(path: string): Endpoint[] {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as {
    host?: string;
    members?: { id: string; ports: { client: number; http: number } }[];
  };
  if (!Array.isArray(raw.members) || raw.members.length === 0) throw new Error(`${path} lists no members`);
  const host = raw.host ?? HOST;
  return raw.members.map((m) => ({
    id: m.id,
    client: `${host}:${m.ports.client}`,
    http: `${host}:${m.ports.http}`,
  }));
}

export function endpointsFromList(list: string): Endpoint[] {
  return list.split(',').map((item, i) => {
    const [client, http] = item.split('/');
    if (client === undefined || http === undefined || !/:\d+$/.test(client) || !/:\d+$/.test(http)) {
      throw new Error(`--endpoints item '${item}' is not host:clientPort/host:httpPort`);
    }
    return { id: `e${i + 1}`, client, http };
  });
}
