import { processAlive } from './procStat.js';
import { sleep } from './wait.js';

/**
 * Every member process this process started and has not seen exit, by PID: an exit on any path
 * (a failed assertion, an uncaught error, `process.exit`) still kills them, and a test's teardown
 * can kill what a failed run left. Only PIDs registered here are ever signalled by it.
 */
const started = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of started) killPid(pid, 'SIGKILL');
  });
}

/** Registers a PID this process started (and installs the exit hook once). */
export function trackPid(pid: number): void {
  installExitHook();
  started.add(pid);
}

/** Forgets a PID (it exited, or its owner stopped it). */
export function untrackPid(pid: number): void {
  started.delete(pid);
}

/** Sends a signal by PID; false when the process is gone. */
export function killPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILL every registered process (SIGCONT first: a paused one dies as well); returns their PIDs. */
export function killAllStarted(): number[] {
  const pids = [...started];
  for (const pid of pids) {
    killPid(pid, 'SIGCONT');
    killPid(pid, 'SIGKILL');
  }
  started.clear();
  return pids;
}

/** Waits (bounded) until the process is gone; false if it still runs after `timeoutMs`. */
export async function waitGone(pid: number, timeoutMs: number, intervalMs = 5): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (processAlive(pid) && performance.now() < deadline) await sleep(intervalMs);
  return !processAlive(pid);
}

/**
 * Stops processes by PID: SIGCONT (a paused member only sees signals once it runs) and SIGTERM (a
 * leader hands over leadership first), then SIGKILL whatever still runs after `graceMs`, waiting
 * at most `killWaitMs` more. Unregisters them. Returns the PIDs that survived even SIGKILL.
 */
export async function stopPids(
  pids: readonly number[],
  graceMs: number,
  killWaitMs = 5000,
): Promise<number[]> {
  const live = pids.filter((p) => p > 0 && processAlive(p));
  for (const pid of live) {
    killPid(pid, 'SIGCONT');
    killPid(pid, 'SIGTERM');
  }
  const deadline = performance.now() + graceMs;
  while (live.some(processAlive) && performance.now() < deadline) await sleep(20);
  for (const pid of live) if (processAlive(pid)) killPid(pid, 'SIGKILL');
  const hard = performance.now() + killWaitMs;
  while (live.some(processAlive) && performance.now() < hard) await sleep(20);
  for (const pid of live) untrackPid(pid);
  return live.filter(processAlive);
}
