import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** Ports the OS says are free right now (bound and released on 127.0.0.1). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<import('node:net').Server>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export interface Proc {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

const started = new Set<ChildProcess>();

/** Starts `keel node` (the built dist) with `args`; every process is tracked for killAll(). */
export function startNode(args: readonly string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, KEEL_LOG_LEVEL: process.env.KEEL_TEST_LOG_LEVEL ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  const p: Proc = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout?.on('data', (d: Buffer) => {
    p.stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    p.stderr += d.toString();
  });
  void p.exited.then(() => started.delete(child));
  return p;
}

/** SIGKILLs every process this test file started that is still alive (by PID). */
export async function killAll(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const c of started) {
    if (c.exitCode === null && c.signalCode === null) {
      waits.push(new Promise((r) => c.once('exit', r)));
      c.kill('SIGKILL');
    }
  }
  await Promise.all(waits);
  started.clear();
}

/** Polls `fn` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function status(httpPort: number): Promise<{
  id: string;
  role: string;
  term: number;
  leader: string | null;
  appliedIndex: number;
  commitIndex: number;
  lastIndex: number;
}> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/status`, { signal: AbortSignal.timeout(1000) });
  return (await res.json()) as {
    id: string;
    role: string;
    term: number;
    leader: string | null;
    appliedIndex: number;
    commitIndex: number;
    lastIndex: number;
  };
}
