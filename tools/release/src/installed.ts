import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { npmEnv } from './install.js';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command in `cwd` with the environment of a user's shell (npmEnv), bounded by `timeoutMs`
 * (then SIGKILL); resolves with its exit code and output.
 */
export function runIn(
  cwd: string,
  cmd: string,
  args: readonly string[],
  timeoutMs = 120_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: npmEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The `keel` an npm install put into `dir`'s node_modules/.bin. */
export function installedKeel(dir: string, args: readonly string[], timeoutMs?: number): Promise<RunResult> {
  return runIn(dir, join(dir, 'node_modules', '.bin', 'keel'), args, timeoutMs);
}
