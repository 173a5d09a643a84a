import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { killPid, trackPid, untrackPid } from '@keel/ops';
import { REPO_ROOT } from './cluster.js';

/** The repository's load generator: CPU spinners and fsync loops, bounded in time. */
export const LOAD_PROGRAM = join(REPO_ROOT, 'scripts', 'load.mjs');

export interface LoadSettings {
  /** Spinning threads (default: one per core). */
  readonly cpu?: number;
  /** fdatasync loops (default 1). */
  readonly fsync?: number;
  /** The load stops by itself after this long even if the bench never stops it. */
  readonly maxSeconds: number;
}

/** What the load generator reported when it stopped (its JSON line). */
export interface LoadSummary {
  readonly cpu: number;
  readonly fsync: number;
  readonly seconds: number;
  readonly fsyncsPerSecond: number;
  readonly writtenMiB: number;
}

/**
 * `scripts/load.mjs` running beside a benchmark, so a figure can be taken on a busy machine as well
 * as on a quiet one. Started by PID, stopped by PID (SIGTERM: it cleans up and prints a summary),
 * killed by the bench's exit hook if the bench dies first; bounded by `maxSeconds` regardless.
 */
export class BackgroundLoad {
  private readonly child: ChildProcess;
  private output = '';
  private readonly exited: Promise<void>;
  private readonly ready: Promise<void>;

  private constructor(settings: LoadSettings) {
    const args = [LOAD_PROGRAM, '--duration', `${Math.max(1, Math.ceil(settings.maxSeconds))}s`];
    if (settings.cpu !== undefined) args.push('--cpu', String(settings.cpu));
    if (settings.fsync !== undefined) args.push('--fsync', String(settings.fsync));
    this.child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`cannot start ${LOAD_PROGRAM}`);
    trackPid(pid);
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => {
      this.output += d;
    });
    // Its first stderr line comes once its workers and signal handlers are set up: a SIGTERM
    // before that would kill it without its summary.
    this.ready = new Promise((resolve) => {
      this.child.stderr!.once('data', () => resolve());
      this.child.once('exit', () => resolve());
    });
    this.child.stderr!.resume();
    this.exited = new Promise((resolve) => {
      this.child.once('exit', () => {
        untrackPid(pid);
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  static start(settings: LoadSettings): BackgroundLoad {
    return new BackgroundLoad(settings);
  }

  /** Stops the load (SIGTERM, then SIGKILL after `graceMs`) and returns its summary, if it printed one. */
  async stop(graceMs = 5000): Promise<LoadSummary | null> {
    const pid = this.child.pid!;
    await Promise.race([this.ready, new Promise((r) => setTimeout(r, graceMs))]);
    if (this.child.exitCode === null && this.child.signalCode === null) killPid(pid, 'SIGTERM');
    const timer = setTimeout(() => killPid(pid, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    const line = this.output.trim().split('\n').at(-1) ?? '';
    try {
      const j = JSON.parse(line) as Partial<LoadSummary> & { tool?: string };
      if (j.tool !== 'keel-load') return null;
      return {
        cpu: j.cpu ?? 0,
        fsync: j.fsync ?? 0,
        seconds: j.seconds ?? 0,
        fsyncsPerSecond: j.fsyncsPerSecond ?? 0,
        writtenMiB: j.writtenMiB ?? 0,
      };
    } catch {
      return null;
    }
  }
}
