import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Endpoint, sleep, waitForCatchUp } from './member.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MEMBER_PROGRAM = join(REPO_ROOT, 'apps', 'node', 'dist', 'main.js');
const HOST = '127.0.0.1';

/** Every PID this process started, so an exit on any path can still kill them. */
const started = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of started) killPid(pid, 'SIGKILL');
  });
}

export function killPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` runs (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: HOST, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/**
 * A base port B whose ports B+i, B+100+i, B+200+i (i = 1..size) are all free, below the Linux
 * ephemeral range (32768) so an outgoing connection cannot take one before a member binds it.
 */
export async function freeBasePort(size: number, lo = 20000, hi = 32000): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = lo + Math.floor(Math.random() * ((hi - lo - 300) / 10)) * 10;
    const ports = [];
    for (let i = 1; i <= size; i++) ports.push(base + i, base + 100 + i, base + 200 + i);
    const free = await Promise.all(ports.map(portFree));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no free base port in [${lo}, ${hi})`);
}

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
    installExitHook();
    const base = opts.basePort ?? (await freeBasePort(opts.nodes));
    const ownDir = opts.dir === undefined;
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'keel-bench-'));
    const ids = Array.from({ length: opts.nodes }, (_v, i) => i + 1);
    const peers = ids.map((i) => `n${i}=${HOST}:${base + i}`).join(',');
    const clients = ids.map((i) => `n${i}=${HOST}:${base + 100 + i}`).join(',');
    const members: LocalMember[] = ids.map((i) => {
      const id = `n${i}`;
      const dataDir = join(dir, id);
      return {
        id,
        client: `${HOST}:${base + 100 + i}`,
        http: `${HOST}:${base + 200 + i}`,
        pid: 0,
        dataDir,
        child: null,
        args: [
          ...(opts.nodeArgs ?? []),
          MEMBER_PROGRAM,
          '--id',
          id,
          '--peers',
          peers,
          '--clients',
          clients,
          '--http',
          `${HOST}:${base + 200 + i}`,
          '--data-dir',
          dataDir,
          '--log-format',
          'json',
          ...(opts.memberArgs ?? []),
        ],
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
    mkdirSync(m.dataDir, { recursive: true });
    const fd = openSync(join(m.dataDir, 'member.log'), 'a');
    try {
      const child = spawn(process.execPath, [...m.args], { stdio: ['ignore', fd, fd], cwd: m.dataDir });
      if (child.pid === undefined) throw new Error(`could not start member ${m.id}`);
      child.on('error', () => {});
      m.pid = child.pid;
      m.child = child;
      started.add(child.pid);
      child.once('exit', () => started.delete(child.pid as number));
    } finally {
      closeSync(fd);
    }
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
    const deadline = performance.now() + timeoutMs;
    while (alive(m.pid) && performance.now() < deadline) await sleep(5);
    if (alive(m.pid)) throw new Error(`${id} (pid ${m.pid}) still runs ${timeoutMs} ms after the signal`);
  }

  /** Starts a member again with its command line and data dir (after a crash). */
  restart(id: string): void {
    const m = this.member(id);
    if (alive(m.pid)) throw new Error(`${id} (pid ${m.pid}) still runs`);
    this.spawnMember(m);
  }

  /**
   * Stops every member: SIGCONT + SIGTERM, then SIGKILL after `graceMs`; by PID only. Removes the
   * data dirs when the bench created them.
   */
  async stop(graceMs = 3000): Promise<void> {
    const pids = this.members.map((m) => m.pid).filter((p) => p > 0 && alive(p));
    for (const pid of pids) {
      killPid(pid, 'SIGCONT');
      killPid(pid, 'SIGTERM');
    }
    const deadline = performance.now() + graceMs;
    while (pids.some(alive) && performance.now() < deadline) await sleep(20);
    for (const pid of pids) if (alive(pid)) killPid(pid, 'SIGKILL');
    const hard = performance.now() + 3000;
    while (pids.some(alive) && performance.now() < hard) await sleep(20);
    for (const pid of pids) started.delete(pid);
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** SIGKILL every process this module started and still tracks (for test teardown). */
export function killAllStarted(): number[] {
  const pids = [...started];
  for (const pid of pids) {
    killPid(pid, 'SIGCONT');
    killPid(pid, 'SIGKILL');
  }
  started.clear();
  return pids;
}

export function trackPid(pid: number): void {
  installExitHook();
  started.add(pid);
}

export function untrackPid(pid: number): void {
  started.delete(pid);
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
