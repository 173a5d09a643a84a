import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The fields of `/proc/<pid>/stat` the tools read (proc(5) numbers them from 1). */
export interface ProcStat {
  /** Field 3: R running, S sleeping, T stopped, Z zombie, X dead, ... */
  readonly state: string;
  /** Fields 14 and 15: CPU time in user and kernel mode, in clock ticks. */
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  /** Field 22: when the process started, in clock ticks since boot (with the PID, its identity). */
  readonly startTime: number;
}

/**
 * Parses one `/proc/<pid>/stat` line. Field 2, the command name, is in parentheses and may itself
 * hold spaces and parentheses, so the fields are counted from after the LAST ')'.
 */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // fields[0] is field 3 (state); field n is fields[n - 3].
  const fields = text.slice(close + 2).split(' ');
  const state = fields[0];
  const utimeTicks = Number(fields[11]);
  const stimeTicks = Number(fields[12]);
  const startTime = Number(fields[19]);
  if (state === undefined || state === '') return null;
  if (![utimeTicks, stimeTicks, startTime].every(Number.isInteger)) return null;
  return { state, utimeTicks, stimeTicks, startTime };
}

/** `/proc/<pid>/stat` parsed, or null when there is no such process (or no /proc). */
export function readProcStat(pid: number, procRoot = '/proc'): ProcStat | null {
  try {
    return parseProcStat(readFileSync(join(procRoot, String(pid), 'stat'), 'utf8'));
  } catch {
    return null;
  }
}

/** Whether `pid` runs: a zombie (exited, not yet reaped) counts as gone. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const stat = readProcStat(pid);
  if (stat !== null) return stat.state !== 'Z' && stat.state !== 'X';
  if (existsSync('/proc/self')) return false;
  // No /proc (macOS): signal 0 tells whether the PID exists (zombies included).
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let clockTicks: number | null = null;

/** Kernel clock ticks per second for /proc times (USER_HZ; 100 on every common Linux). */
function clockTicksPerSecond(): number {
  if (clockTicks !== null) return clockTicks;
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim());
    clockTicks = Number.isFinite(v) && v > 0 ? v : 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

export interface ProcSample {
  /** User + system CPU time of the process, in ms. */
  readonly cpuMs: number;
  /** Resident set size in bytes. */
  readonly rssBytes: number;
  /** When the sample was taken (performance.now()). */
  readonly at: number;
}

/** CPU time and RSS of a process from /proc; null when it is gone or /proc is absent. */
export function sampleProc(pid: number, procRoot = '/proc'): ProcSample | null {
  const stat = readProcStat(pid, procRoot);
  if (stat === null) return null;
  let rssBytes = 0;
  try {
    const status = readFileSync(join(procRoot, String(pid), 'status'), 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    rssBytes = m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return null;
  }
  return {
    cpuMs: ((stat.utimeTicks + stat.stimeTicks) * 1000) / clockTicksPerSecond(),
    rssBytes,
    at: performance.now(),
  };
}

/** CPU use between two samples, in percent of one core (one decimal). */
export function cpuPercent(a: ProcSample | null, b: ProcSample | null): number | null {
  if (a === null || b === null || b.at <= a.at) return null;
  return Math.round(((b.cpuMs - a.cpuMs) / (b.at - a.at)) * 1000) / 10;
}
