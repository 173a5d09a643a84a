import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { readClusterFile } from '../src/cluster/ClusterFile.js';
import { busyPorts, CLUSTER_HOST, memberPorts } from '../src/cluster/ports.js';
import type { Io } from '../src/index.js';

export const FAKE_MEMBER = fileURLToPath(new URL('./fixtures/fake-member.mjs', import.meta.url));
export const CLI_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

export interface Captured {
  readonly io: Io;
  readonly out: string[];
  readonly err: string[];
  text(): string;
}

/**
 * Tracks every process a test starts, by PID, and kills the ones still running at the end, so a
 * failing test leaves nothing behind. It only signals a PID whose command line still names the
 * program it started (a PID reused by a stranger is left alone).
 */
export class ProcessTracker {
  private readonly pids = new Map<number, string>();

  track(pid: number, mark: string): void {
    this.pids.set(pid, mark);
  }

  /** Adds every PID recorded in a cluster directory's file. */
  trackClusterDir(dir: string): void {
    try {
      for (const m of readClusterFile(dir)?.members ?? [])
        if (m.pid !== null) this.track(m.pid, m.command[1] ?? '');
    } catch {
      // A damaged file has no PIDs to offer; the onSpawn hook saw them anyway.
    }
  }

  killAll(): number {
    let killed = 0;
    for (const [pid, mark] of this.pids) {
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (!cmdline.includes(mark)) continue;
      try {
        process.kill(pid, 'SIGKILL');
        killed += 1;
      } catch {
        // gone meanwhile
      }
    }
    this.pids.clear();
    return killed;
  }
}

export function capture(overrides: Partial<Io> = {}, tracker?: ProcessTracker, mark = FAKE_MEMBER): Captured {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    isTTY: false,
    env: { ...process.env, KEEL_MEMBER_PROGRAM: FAKE_MEMBER, KEEL_FAKE_LIFETIME_MS: '60000' },
    ...(tracker ? { onSpawn: (pid: number) => tracker.track(pid, mark) } : {}),
    ...overrides,
  };
  return { io, out, err, text: () => [...out, ...err].join('\n') };
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `keel-cli-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A base port whose whole block (for `size` members) is free right now. */
export async function freeBasePort(size: number, from: number, to: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = from + Math.floor((Math.random() * (to - from)) / 10) * 10;
    const ports = Array.from({ length: size }, (_v, i) => memberPorts(base, i + 1)).flatMap((p) => [
      p.peer,
      p.client,
      p.http,
    ]);
    if ((await busyPorts(CLUSTER_HOST, ports)).length === 0) return base;
  }
  throw new Error(`no free port block in ${from}-${to}`);
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
