import { join } from 'node:path';
import { makeDirectory } from '@keel/node/files';
import {
  addressList,
  killPid,
  type MemberPorts,
  memberCommand,
  memberPorts,
  sleep,
  startMemberProcess,
} from '@keel/ops';
import { CLUSTER_FILE_VERSION, type ClusterFile, type MemberRecord, MemberState } from './ClusterFile.js';
import { checkOwnership, pidStartTime } from './ownership.js';

export interface ClusterPlan {
  readonly dir: string;
  readonly host: string;
  readonly basePort: number;
  readonly size: number;
  /** The member script (apps/node's dist/main.js). */
  readonly program: string;
  /** The node binary that runs it. */
  readonly nodeBinary: string;
  /** Extra flags passed to every member (e.g. `--election-timeout 300`). */
  readonly extraArgs?: readonly string[];
  /** Flags of one member (e.g. its own key file). */
  readonly memberArgs?: (id: string) => readonly string[];
  /**
   * `--cluster-id` for every member: a member refuses a data dir written for another cluster id,
   * so a leftover data dir of an earlier cluster in the same directory is never mixed in.
   */
  readonly clusterId?: string;
}

export function memberId(index: number): string {
  return `n${index}`;
}

/** A member not started yet: its ports, data dir, log file and command line. */
export function newMemberRecord(
  id: string,
  ports: MemberPorts,
  dataDir: string,
  command: readonly string[],
): MemberRecord {
  return {
    id,
    pid: null,
    pidStartTime: null,
    state: MemberState.Stopped,
    ports,
    dataDir,
    logFile: join(dataDir, 'member.log'),
    command,
    startedAt: null,
  };
}

/** The cluster file for a plan, every member not yet started. */
export function planCluster(plan: ClusterPlan, now = new Date()): ClusterFile {
  const ids = Array.from({ length: plan.size }, (_v, i) => memberId(i + 1));
  const list = (kind: 'peer' | 'client'): string =>
    addressList(ids, (_id, i) => `${plan.host}:${memberPorts(plan.basePort, i + 1)[kind]}`);
  const peers = list('peer');
  const clients = list('client');
  const members = ids.map((id, i): MemberRecord => {
    const ports = memberPorts(plan.basePort, i + 1);
    const dataDir = join(plan.dir, id);
    return newMemberRecord(
      id,
      ports,
      dataDir,
      memberCommand({
        nodeBinary: plan.nodeBinary,
        program: plan.program,
        id,
        peers,
        clients,
        http: `${plan.host}:${ports.http}`,
        dataDir,
        extraArgs: [
          // A local cluster is for experiments: `keel cluster isolate|heal` and the dashboard use it.
          '--fault-injection',
          ...(plan.clusterId !== undefined ? ['--cluster-id', plan.clusterId] : []),
          ...(plan.extraArgs ?? []),
          ...(plan.memberArgs?.(id) ?? []),
        ],
      }),
    );
  });
  return {
    version: CLUSTER_FILE_VERSION,
    dir: plan.dir,
    host: plan.host,
    basePort: plan.basePort,
    createdAt: now.toISOString(),
    launcherPid: null,
    members,
  };
}

/** A member that exited while this process watched it, with how. */
export interface ExitNotice {
  readonly id: string;
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly onSpawn?: (pid: number) => void;
  readonly onExit?: (notice: ExitNotice) => void;
}

/**
 * Starts one member with its recorded command line, in its own process group (so a terminal's
 * Ctrl-C reaches only the CLI, which then stops members in order), output appended to its log.
 * Resolves once the process exists; rejects with a one-line message if it could not be started.
 */
export async function startMember(m: MemberRecord, opts: StartOptions): Promise<MemberRecord> {
  makeDirectory(m.dataDir);
  const p = await startMemberProcess({
    id: m.id,
    command: m.command,
    cwd: m.dataDir,
    env: opts.env,
    output: {
      logFile: m.logFile,
      banner: `--- keel cluster: starting ${m.id} at ${new Date().toISOString()}: ${m.command.join(' ')}`,
    },
    detached: true,
    // The cluster file records the PID; `keel cluster` finds its members again from there.
    track: false,
  });
  opts.onSpawn?.(p.pid);
  void p.exited.then(({ code, signal }) => opts.onExit?.({ id: m.id, pid: p.pid, code, signal }));
  p.child.unref();
  return {
    ...m,
    pid: p.pid,
    pidStartTime: pidStartTime(p.pid),
    state: MemberState.Running,
    startedAt: new Date().toISOString(),
  };
}

/** How a stop went, for the report line. */
export type StopOutcome =
  | { readonly kind: 'terminated'; readonly ms: number }
  | { readonly kind: 'killed'; readonly ms: number }
  | { readonly kind: 'not-running' }
  | { readonly kind: 'stranger'; readonly reason: string }
  | { readonly kind: 'stuck'; readonly ms: number };

/** Polls until the member's process is gone (or no longer ours); false on timeout. */
export async function waitUntilGone(m: MemberRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (checkOwnership(m).kind !== 'ours') return true;
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
}

/**
 * Stops one member: SIGTERM (a leader hands over leadership first), then SIGKILL if it has not
 * exited within `graceMs`. Only a PID that is verifiably this member's process is signalled.
 */
export async function stopMember(m: MemberRecord, graceMs: number, force = false): Promise<StopOutcome> {
  const own = checkOwnership(m);
  if (own.kind === 'gone') return { kind: 'not-running' };
  if (own.kind === 'stranger') return { kind: 'stranger', reason: own.reason };
  const pid = m.pid as number;
  const started = Date.now();
  if (!force) {
    killPid(pid, 'SIGTERM');
    // A paused (SIGSTOPped) member only sees the SIGTERM once it runs again.
    killPid(pid, 'SIGCONT');
    if (await waitUntilGone(m, graceMs)) return { kind: 'terminated', ms: Date.now() - started };
  }
  if (checkOwnership(m).kind === 'ours') killPid(pid, 'SIGKILL');
  if (await waitUntilGone(m, 5000)) return { kind: 'killed', ms: Date.now() - started };
  return { kind: 'stuck', ms: Date.now() - started };
}

export function describeStop(id: string, pid: number | null, o: StopOutcome): string {
  switch (o.kind) {
    case 'terminated':
      return `${id} (pid ${pid}) stopped in ${o.ms} ms`;
    case 'killed':
      return `${id} (pid ${pid}) did not stop on SIGTERM; killed with SIGKILL after ${o.ms} ms`;
    case 'not-running':
      return `${id} was not running`;
    case 'stranger':
      return `${id}: not signalled, because ${o.reason}`;
    case 'stuck':
      return `${id} (pid ${pid}) survived SIGKILL for ${o.ms} ms; check it with 'ps -p ${pid}'`;
  }
}
