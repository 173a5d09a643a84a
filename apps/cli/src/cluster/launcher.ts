import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeDirectory } from '@keel/node';
import { CLUSTER_FILE_VERSION, type ClusterFile, type MemberRecord, MemberState } from './ClusterFile.js';
import { checkOwnership, pidStartTime, sendSignal } from './ownership.js';
import { type MemberPorts, memberPorts } from './ports.js';

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
  const indexes = Array.from({ length: plan.size }, (_v, i) => i + 1);
  const list = (kind: 'peer' | 'client'): string =>
    indexes.map((i) => `${memberId(i)}=${plan.host}:${memberPorts(plan.basePort, i)[kind]}`).join(',');
  const peers = list('peer');
  const clients = list('client');
  const members = indexes.map((i): MemberRecord => {
    const id = memberId(i);
    const ports = memberPorts(plan.basePort, i);
    const dataDir = join(plan.dir, id);
    return newMemberRecord(id, ports, dataDir, [
      plan.nodeBinary,
      plan.program,
      '--id',
      id,
      '--peers',
      peers,
      '--clients',
      clients,
      '--http',
      `${plan.host}:${ports.http}`,
      '--data-dir',
      dataDir,
      '--log-format',
      'json',
      ...(plan.clusterId !== undefined ? ['--cluster-id', plan.clusterId] : []),
      ...(plan.extraArgs ?? []),
    ]);
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
  const fd = openSync(m.logFile, 'a');
  const [bin, ...args] = m.command;
  if (bin === undefined) throw new Error(`member ${m.id} has no command line in the cluster file`);
  try {
    writeSync(
      fd,
      `--- keel cluster: starting ${m.id} at ${new Date().toISOString()}: ${m.command.join(' ')}\n`,
    );
    const child = spawn(bin, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      cwd: m.dataDir,
      env: { ...opts.env },
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`could not start member ${m.id}: ${err.message}`)));
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start member ${m.id}: no PID`);
    opts.onSpawn?.(pid);
    child.once('exit', (code, signal) => opts.onExit?.({ id: m.id, pid, code, signal }));
    child.unref();
    return {
      ...m,
      pid,
      pidStartTime: pidStartTime(pid),
      state: MemberState.Running,
      startedAt: new Date().toISOString(),
    };
  } finally {
    closeSync(fd);
  }
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
    sendSignal(pid, 'SIGTERM');
    // A paused (SIGSTOPped) member only sees the SIGTERM once it runs again.
    sendSignal(pid, 'SIGCONT');
    if (await waitUntilGone(m, graceMs)) return { kind: 'terminated', ms: Date.now() - started };
  }
  if (checkOwnership(m).kind === 'ours') sendSignal(pid, 'SIGKILL');
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
