import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  fetchStatus,
  killAllStarted,
  launchMember,
  type MemberStatus,
  waitFor as opsWaitFor,
} from '@keel/ops';

export { freePorts } from '@keel/ops';

export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface Proc {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

const running = new Set<Promise<unknown>>();

/** Starts `keel node` (the built dist) with `args`, output captured; tracked by @keel/ops for killAll(). */
export function startNode(args: readonly string[], env: Record<string, string> = {}): Proc {
  const launched = launchMember({
    id: args[args.indexOf('--id') + 1] ?? 'member',
    command: [process.execPath, MAIN, ...args],
    env: { ...process.env, KEEL_LOG_LEVEL: process.env.KEEL_TEST_LOG_LEVEL ?? 'warn', ...env },
    output: 'pipe',
  });
  const exited = launched.exited.then(({ code }) => code);
  running.add(exited);
  void exited.then(() => running.delete(exited));
  const p: Proc = { child: launched.child, stdout: '', stderr: '', exited };
  launched.child.stdout?.on('data', (d: Buffer) => {
    p.stdout += d.toString();
  });
  launched.child.stderr?.on('data', (d: Buffer) => {
    p.stderr += d.toString();
  });
  return p;
}

const dirs: string[] = [];

/** A new directory under the OS temp dir, deleted by the next `killAll()` (after the processes exit). */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/**
 * SIGKILLs every process this test file started that is still alive (by PID), waits for them,
 * then deletes the test's temporary directories: a member's WAL preallocates its segments, so
 * leftovers of many runs fill a disk.
 */
export async function killAll(): Promise<void> {
  killAllStarted();
  await Promise.all(running);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Polls `fn` until it returns a value other than undefined, or fails after `timeoutMs`. */
export function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  return opsWaitFor(what, fn, timeoutMs);
}

/** A member's `/status` (on 127.0.0.1 unless `host` says); throws when it does not answer (waitFor retries). */
export async function status(httpPort: number, host = '127.0.0.1'): Promise<MemberStatus> {
  const s = await fetchStatus(`${host}:${httpPort}`, 1000);
  if (s === null) throw new Error(`no /status answer on port ${httpPort}`);
  return s;
}
