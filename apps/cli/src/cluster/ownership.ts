import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readProcStat } from '@keel/ops';
import type { MemberRecord } from './ClusterFile.js';

/**
 * Whether the PID recorded for a member is still that member's process:
 * - `ours`: alive, same start time, and its command line is the recorded member's;
 * - `gone`: no such process (or a zombie waiting to be reaped);
 * - `stranger`: the kernel gave the PID to another process; it must never be signalled.
 */
export type PidOwnership =
  | { readonly kind: 'ours' }
  | { readonly kind: 'gone' }
  | { readonly kind: 'stranger'; readonly reason: string };

export interface OwnershipProbe {
  /** Root of the proc filesystem; tests point it at a directory they built. */
  readonly procRoot?: string;
  /** Used where there is no /proc (macOS): returns `ps -o args=` for the PID, or null. */
  readonly psArgs?: (pid: number) => string | null;
}

function alive(pid: number): 'yes' | 'no' | 'not-ours' {
  try {
    process.kill(pid, 0);
    return 'yes';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'not-ours' : 'no';
  }
}

function readCmdline(pid: number, procRoot: string): string[] | null {
  try {
    const raw = readFileSync(join(procRoot, String(pid), 'cmdline'), 'utf8');
    return raw.split('\0').filter((a) => a !== '');
  } catch {
    return null;
  }
}

function defaultPsArgs(pid: number): string | null {
  try {
    return (
      execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8', timeout: 2000 }).trim() ||
      null
    );
  } catch {
    return null;
  }
}

function flagValue(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** The record's identity: member script, `--id` and `--data-dir` as they were started. */
function identity(m: MemberRecord): { script: string; id: string; dataDir: string } {
  return {
    script: m.command[1] ?? '',
    id: flagValue(m.command, '--id') ?? m.id,
    dataDir: flagValue(m.command, '--data-dir') ?? m.dataDir,
  };
}

export function checkOwnership(m: MemberRecord, probe: OwnershipProbe = {}): PidOwnership {
  const pid = m.pid;
  if (pid === null || !Number.isInteger(pid) || pid <= 1) return { kind: 'gone' };
  const a = alive(pid);
  if (a === 'no') return { kind: 'gone' };
  if (a === 'not-ours') return { kind: 'stranger', reason: `PID ${pid} belongs to another user` };
  const want = identity(m);
  const procRoot = probe.procRoot ?? '/proc';
  const stat = readProcStat(pid, procRoot);
  if (stat !== null) {
    if (stat.state === 'Z' || stat.state === 'X') return { kind: 'gone' };
    if (m.pidStartTime !== null && stat.startTime !== m.pidStartTime) {
      return { kind: 'stranger', reason: `PID ${pid} was reused by a process started later` };
    }
    const argv = readCmdline(pid, procRoot);
    if (argv === null) return { kind: 'gone' };
    // A process that is exiting (after SIGKILL, say) has released its memory, so its command line
    // reads empty for a moment before it turns zombie. Its start time still names it: it is ours
    // and not gone yet (calling it gone let `down` return while the member still ran).
    if (argv.length === 0 && m.pidStartTime !== null) return { kind: 'ours' };
    if (
      !argv.includes(want.script) ||
      flagValue(argv, '--id') !== want.id ||
      flagValue(argv, '--data-dir') !== want.dataDir
    ) {
      return {
        kind: 'stranger',
        reason: `PID ${pid} runs '${argv.join(' ').slice(0, 80)}', not member ${m.id}`,
      };
    }
    return { kind: 'ours' };
  }
  // No /proc: fall back to ps, which joins argv with spaces.
  const args = (probe.psArgs ?? defaultPsArgs)(pid);
  if (args === null) return { kind: 'gone' };
  if (
    !args.includes(want.script) ||
    !args.includes(`--id ${want.id}`) ||
    !args.includes(`--data-dir ${want.dataDir}`)
  ) {
    return { kind: 'stranger', reason: `PID ${pid} runs '${args.slice(0, 80)}', not member ${m.id}` };
  }
  return { kind: 'ours' };
}

/** Start time of a PID we just spawned, for the cluster file; null where /proc is missing. */
export function pidStartTime(pid: number, procRoot = '/proc'): number | null {
  return readProcStat(pid, procRoot)?.startTime ?? null;
}
