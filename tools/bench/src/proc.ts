import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Kernel clock ticks per second for /proc/<pid>/stat times (USER_HZ; 100 on every common Linux). */
const CLK_TCK = ((): number => {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim());
    return Number.isFinite(v) && v > 0 ? v : 100;
  } catch {
    return 100;
  }
})();

export interface ProcSample {
  /** User + system CPU time of the process, in ms. */
  readonly cpuMs: number;
  /** Resident set size in bytes. */
  readonly rssBytes: number;
  /** When the sample was taken (performance.now()). */
  readonly at: number;
}

/** CPU time and RSS of a process from /proc; null when it is gone or /proc is absent. */
export function sampleProc(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return {
      cpuMs: ((utime + stime) * 1000) / CLK_TCK,
      rssBytes: m === null ? 0 : Number(m[1]) * 1024,
      at: performance.now(),
    };
  } catch {
    return null;
  }
}

/** CPU use between two samples, in percent of one core. */
export function cpuPercent(a: ProcSample | null, b: ProcSample | null): number | null {
  if (a === null || b === null || b.at <= a.at) return null;
  return Math.round(((b.cpuMs - a.cpuMs) / (b.at - a.at)) * 1000) / 10;
}

export interface MachineInfo {
  readonly cpu_model: string;
  readonly cores: number;
  readonly memory_gib: number;
  readonly os: string;
  readonly kernel: string;
  readonly node: string;
  readonly hostname: string;
  /** 1, 5 and 15 minute load averages when the description was taken. */
  readonly loadavg: readonly number[];
}

export function describeMachine(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.arch()}`,
    kernel: os.release(),
    node: process.version,
    hostname: os.hostname(),
    loadavg: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}
