import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterFile, readClusterFile } from '../src/cluster/ClusterFile.js';
import { memberProgram } from '../src/cluster/paths.js';
import { ExitCode, runCli } from '../src/index.js';
import { CLI_MAIN, capture, freeBasePort, ProcessTracker, tempDir } from './helpers.js';

// Issue #19 part 3 through the real `keel` (its own process, from source) against a real 3-member
// cluster: KEEL_ENDPOINTS alone finds the cluster, a flag beats it, `keel members` finds the HTTP
// admin addresses in the cluster file or in KEEL_ADMIN_ENDPOINTS (as for a cluster `keel cluster`
// did not start), the old --endpoint warns once, durations take units, and hints repeat the --dir
// in use. Every PID is killed in afterAll.
const MAIN = memberProgram({});
const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
const tracker = new ProcessTracker();
const tmp = tempDir('endpoints');
const dir = join(tmp.path, 'cluster');
/** A directory with no cluster: whatever works with it as KEEL_CLUSTER_DIR did not use the file. */
const nowhere = join(tmp.path, 'no-cluster-here');
const baseEnv: Record<string, string | undefined> = { ...process.env };
for (const k of Object.keys(baseEnv)) if (k.startsWith('KEEL_') || k.startsWith('npm_')) delete baseEnv[k];

afterAll(() => {
  tracker.trackClusterDir(dir);
  tracker.killAll();
  tmp.remove();
});

function file(): ClusterFile {
  const f = readClusterFile(dir);
  if (f === null) throw new Error('no cluster file');
  return f;
}

/** `keel ...` as a process of its own with `env` added; killed (by PID) after 60 s. */
function keel(args: readonly string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; out: string[]; err: string[] }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI_MAIN, ...args], {
      cwd: APP_DIR, // where tsx resolves
      env: { ...baseEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid !== undefined) tracker.track(child.pid, CLI_MAIN);
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keel ${args.join(' ')}: no exit within 60 s`));
    }, 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = (t: string) => t.split('\n').filter((l) => l !== '');
      resolve({ code, out: lines(out), err: lines(err) });
    });
  });
}

const clientEndpoints = (): string =>
  file()
    .members.map((m) => `127.0.0.1:${m.ports.client}`)
    .join(',');

describe.skipIf(!existsSync(MAIN))('one endpoint story against a real cluster', () => {
  beforeAll(async () => {
    const base = await freeBasePort(3, 21000, 31000);
    const c = capture({ env: baseEnv }, tracker, MAIN);
    const code = await runCli(
      ['cluster', 'up', '--detach', '--json', '--dir', dir, '--base-port', String(base), '--timeout', '20s'],
      c.io,
    );
    tracker.trackClusterDir(dir);
    expect(c.err).toEqual([]);
    expect(code).toBe(ExitCode.Ok);
  }, 60_000);

  it('KEEL_ENDPOINTS alone names the cluster for put and get; durations take units', async () => {
    const env = { KEEL_ENDPOINTS: clientEndpoints(), KEEL_CLUSTER_DIR: nowhere };
    expect(await keel(['put', 'from-env', 'v1', '--timeout', '20s'], env)).toEqual({
      code: 0,
      out: ['OK'],
      err: [],
    });
    expect(await keel(['get', 'from-env', '--timeout', '20000ms'], env)).toEqual({
      code: 0,
      out: ['v1'],
      err: [],
    });
  });

  it('--endpoints beats KEEL_ENDPOINTS; a bad KEEL_ENDPOINTS is named in one line (exit 2)', async () => {
    const bogus = { KEEL_ENDPOINTS: 'not-an-endpoint', KEEL_CLUSTER_DIR: nowhere };
    const flag = await keel(['get', 'from-env', '--endpoints', clientEndpoints(), '--timeout', '20s'], bogus);
    expect(flag).toEqual({ code: 0, out: ['v1'], err: [] });
    const bad = await keel(['get', 'from-env'], bogus);
    expect(bad.code).toBe(ExitCode.Usage);
    expect(bad.err).toEqual([
      "keel get: KEEL_ENDPOINTS wants host:port[,host:port...], got 'not-an-endpoint'; run 'keel get --help'",
    ]);
  });

  it('keel members finds the HTTP admin addresses in the cluster file, with no flag', async () => {
    const r = await keel(['members', 'list', '--json', '--timeout', '20s'], { KEEL_CLUSTER_DIR: dir });
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const view = JSON.parse(r.out.join('\n')) as { members: { id: string; http: string }[] };
    expect(view.members.map((m) => m.id).sort()).toEqual(['n1', 'n2', 'n3']);
  });

  it('or from KEEL_ADMIN_ENDPOINTS, as for a cluster keel cluster did not start', async () => {
    // No cluster file is read: KEEL_CLUSTER_DIR names an empty directory.
    const all = file()
      .members.map((m) => `127.0.0.1:${m.ports.http}`)
      .join(',');
    const r = await keel(['members', 'list', '--json', '--timeout', '20s'], {
      KEEL_ADMIN_ENDPOINTS: all,
      KEEL_CLUSTER_DIR: nowhere,
    });
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const view = JSON.parse(r.out.join('\n')) as { members: { id: string }[] };
    expect(view.members.map((m) => m.id).sort()).toEqual(['n1', 'n2', 'n3']);
  });

  it('the old --endpoint still works (an alias of --admin-endpoints), with one warning line', async () => {
    const all = file()
      .members.map((m) => `127.0.0.1:${m.ports.http}`)
      .join(',');
    const r = await keel(['members', 'list', '--endpoint', all, '--timeout', '20'], {
      KEEL_CLUSTER_DIR: nowhere,
    });
    expect(r.code).toBe(0);
    expect(r.err).toEqual([
      'keel: --endpoint is deprecated; use --admin-endpoints (or KEEL_ADMIN_ENDPOINTS)',
    ]);
    expect(r.out.at(-1)).toMatch(/^leader n[123], term \d+, commit \d+/);
  });

  it("hints say 'keel' and repeat the --dir in use", async () => {
    const empty = join(tmp.path, 'no cluster');
    const r = await keel(['get', 'k', '--dir', empty], {});
    expect(r.code).toBe(ExitCode.NoCluster);
    expect(r.err).toEqual([
      `keel get: no cluster running in ${empty}; start one with 'keel cluster up --dir '${empty}'' or name members with --endpoints host:port,... (or KEEL_ENDPOINTS)`,
    ]);
  });
});
