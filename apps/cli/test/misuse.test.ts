import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode, runCli } from '../src/index.js';
import { CLI_MAIN, capture, tempDir } from './helpers.js';

const tmp = tempDir('misuse');
afterAll(() => tmp.remove());
const empty = join(tmp.path, 'empty');

async function run(...argv: string[]) {
  const c = capture();
  const code = await runCli(argv, c.io);
  return { code, out: c.out, err: c.err };
}

/** Runs the real `keel` process; SIGKILLed (by its PID) if it has not exited within `limitMs`. */
function keelProcess(argv: readonly string[], limitMs: number) {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI_MAIN, ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  child.stdout.resume();
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    }),
  );
  return { exited };
}

describe('keel cluster misuse: one line saying what to do, and a non-zero exit', () => {
  // Node's recursive mkdir spins forever on procfs (mkdir says ENOENT under an existing parent):
  // `up` used to sit at full CPU there, deaf to SIGTERM. The limit is far above the startup time.
  it.skipIf(!existsSync('/proc/self'))('up with an unusable --dir fails at once in one line', async () => {
    const dir = `/proc/keel-nope-${process.pid}`;
    const r = await keelProcess(['cluster', 'up', '--detach', '--dir', dir], 60_000).exited;
    expect(r.signal).toBeNull();
    expect(r.code).toBe(ExitCode.Failure);
    expect(r.stderr).toBe(
      `keel cluster up: cannot use --dir ${dir}: it is not a writable directory (ENOENT)\n`,
    );
  });

  it('prints the cluster help with its commands and exit codes', async () => {
    const r = await run('cluster', '--help');
    expect(r.code).toBe(ExitCode.Ok);
    const help = r.out.join('\n');
    for (const word of [
      'up',
      'status',
      'down',
      'kill <id>',
      'restart <id>',
      'pause <id>',
      'logs <id>',
      'Exit codes',
    ]) {
      expect(help).toContain(word);
    }
    expect((await run('cluster', 'up', '--help')).out.join('\n')).toBe(help);
    expect((await run('cluster')).code).toBe(ExitCode.Usage);
  });

  it('rejects an unknown subcommand', async () => {
    expect(await run('cluster', 'explode')).toEqual({
      code: ExitCode.Usage,
      out: [],
      err: [
        "keel cluster: unknown command 'explode' (expected up, down, status, stop, kill, restart, pause, resume, isolate, heal, logs, add-node, remove-node); run 'keel cluster --help'",
      ],
    });
  });

  it('rejects an unknown option, and an option of another command', async () => {
    expect(await run('cluster', 'status', '--frobnicate')).toEqual({
      code: ExitCode.Usage,
      out: [],
      err: ["keel cluster status: unknown option '--frobnicate' for 'status'; run 'keel cluster --help'"],
    });
    const r = await run('cluster', 'kill', 'n1', '--detach');
    expect(r.code).toBe(ExitCode.Usage);
    expect(r.err).toEqual([
      "keel cluster kill: unknown option '--detach' for 'kill'; run 'keel cluster --help'",
    ]);
  });

  it.each(['kill', 'stop', 'restart', 'pause', 'resume', 'logs'])('%s without a member id', async (sub) => {
    const r = await run('cluster', sub, '--dir', empty);
    expect(r.code).toBe(ExitCode.Usage);
    expect(r.err).toEqual([
      `keel cluster ${sub}: missing member id (e.g. 'keel cluster ${sub} n1'); run 'keel cluster --help'`,
    ]);
  });

  it('rejects extra arguments', async () => {
    expect((await run('cluster', 'kill', 'n1', 'n2', '--dir', empty)).err).toEqual([
      "keel cluster kill: expected one member id, got 'n1 n2'; run 'keel cluster --help'",
    ]);
    expect((await run('cluster', 'status', 'now', '--dir', empty)).code).toBe(ExitCode.Usage);
  });

  it('rejects a bad member count or base port before starting anything', async () => {
    expect((await run('cluster', 'up', '-n', '12', '--dir', empty)).err).toEqual([
      "keel cluster up: --members must be an integer from 1 to 9, got '12'; run 'keel cluster --help'",
    ]);
    expect((await run('cluster', 'up', '-n', 'three', '--dir', empty)).code).toBe(ExitCode.Usage);
    expect((await run('cluster', 'up', '--base-port', '80', '--dir', empty)).err).toEqual([
      "keel cluster up: --base-port must be an integer of at least 1024; run 'keel cluster --help'",
    ]);
    expect((await run('cluster', 'up', '--wal-segment-size', '1KiB', '--dir', empty)).err).toEqual([
      "keel cluster up: --wal-segment-size must be a size from 64KiB to 1GiB (bytes, or with KiB, MiB or GiB), got '1KiB'; run 'keel cluster --help'",
    ]);
  });

  it.each([
    ['status'],
    ['down'],
    ['kill', 'n1'],
    ['stop', 'n1'],
    ['pause', 'n2'],
    ['restart', 'n1'],
    ['logs', 'n1'],
  ])('%s %s with no cluster running says how to start one (exit 4)', async (...argv) => {
    const r = await run('cluster', ...argv, '--dir', empty);
    expect(r.code).toBe(ExitCode.NoCluster);
    expect(r.err).toEqual([
      `keel cluster ${argv[0]}: no cluster running in ${empty}; start one with 'keel cluster up --dir ${empty}'`,
    ]);
  });

  it('says when the member program is not built', async () => {
    const c = capture({ env: { ...process.env, KEEL_MEMBER_PROGRAM: join(tmp.path, 'missing.js') } });
    const code = await runCli(['cluster', 'up', '--detach', '--dir', join(tmp.path, 'nobuild')], c.io);
    expect(code).toBe(ExitCode.Failure);
    expect(c.err).toEqual([
      `keel cluster up: the member program ${join(tmp.path, 'missing.js')} does not exist; build it with 'pnpm build' (or 'pnpm exec turbo run build --filter=@keel/node')`,
    ]);
  });

  it('uses <repo>/.cluster inside the checkout and ./keel-cluster elsewhere', async () => {
    const { defaultClusterDir } = await import('../src/cluster/paths.js');
    const repo = join(import.meta.dirname, '..', '..', '..');
    expect(defaultClusterDir(join(repo, 'apps', 'cli'), {})).toBe(join(repo, '.cluster'));
    expect(defaultClusterDir(tmp.path, {})).toBe(join(tmp.path, 'keel-cluster'));
    expect(defaultClusterDir(tmp.path, { KEEL_CLUSTER_DIR: 'x' })).toBe(join(tmp.path, 'x'));
  });
});
