import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { freeBasePort, killPid, processAlive } from '@keel/ops';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkRelease,
  copyTarballs,
  installedKeel,
  installWithScript,
  type PackedPackage,
  publicPackages,
  type RunResult,
  runIn,
  runtimeClosure,
  workspaceRoot,
} from '../src/index.js';

// What a user without pnpm gets: every public package packed as `pnpm publish` would pack it,
// checked by publint and are-the-types-wrong, then installed with plain npm into an empty
// directory, where the installed `keel` runs a secured cluster and survives its leader's death;
// and the same through npx. Slow (a minute or more): it packs a dozen packages and runs npm.
const root = workspaceRoot();
const work = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), 'keel-install-'));
const started = new Set<number>();
let packed: PackedPackage[] = [];

/** Tarballs of the CLI and what it needs at run time (not the optional bench/chaos tools), in `dir`. */
function cliTarballs(dir: string): string[] {
  return copyTarballs(packed, runtimeClosure('@keel/cli', publicPackages(root)), dir);
}

function ok(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

interface StatusJson {
  readonly leader: string | null;
  readonly members: ReadonlyArray<{ readonly id: string; readonly pid: number | null }>;
}

/** Runs the whole user scenario with `keel` (a function running the installed command). */
async function scenario(
  keel: (args: string[]) => Promise<RunResult>,
  dir: string,
  secure: boolean,
): Promise<void> {
  const base = String(await freeBasePort(3));
  const at = ['--dir', dir];
  const up = ok(
    await keel([
      'cluster',
      'up',
      ...(secure ? ['--secure'] : []),
      '--detach',
      '--base-port',
      base,
      '--timeout',
      '60',
      ...at,
    ]),
    'cluster up',
  );
  expect(up.stdout).toMatch(/leader n\d elected/);
  const status = (): Promise<StatusJson> =>
    keel(['cluster', 'status', '--json', ...at]).then(
      (r) => JSON.parse(ok(r, 'status').stdout) as StatusJson,
    );
  for (const m of (await status()).members) if (m.pid !== null) started.add(m.pid);

  ok(await keel(['put', 'greeting', 'hello', '--timeout', '30', ...at]), 'put');
  expect(ok(await keel(['get', 'greeting', '--timeout', '30', ...at]), 'get').stdout.trim()).toBe('hello');

  // Kill whoever leads now; the next write must find the new leader by itself.
  const before = await status();
  const leader = before.leader;
  expect(leader).not.toBeNull();
  ok(await keel(['cluster', 'kill', String(leader), ...at]), 'cluster kill');
  ok(await keel(['put', 'after', 'failover', '--timeout', '60', ...at]), 'put after the leader died');
  expect(ok(await keel(['get', 'after', '--timeout', '30', ...at]), 'get').stdout.trim()).toBe('failover');

  ok(await keel(['cluster', 'down', ...at]), 'cluster down');
  for (const pid of started) expect(processAlive(pid)).toBe(false);
}

beforeAll(async () => {
  packed = await checkRelease(root, work);
}, 900_000);

afterAll(() => {
  for (const pid of started) if (processAlive(pid)) killPid(pid, 'SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

describe('the packed packages', () => {
  it('are fit to publish: manifests, files, links, publint, are-the-types-wrong', () => {
    const problems = packed
      .filter((p) => p.problems.length > 0)
      .map((p) => `${p.name}: ${p.problems.join('; ')}`);
    expect(problems).toEqual([]);
    expect(packed.map((p) => p.name)).toContain('@keel/cli');
  });

  it('install with plain npm into an empty directory; keel runs a secured cluster through a failover', async () => {
    const app = join(work, 'app');
    const tarballs = cliTarballs(join(work, 'cli-packages'));
    expect(tarballs.map((t) => basename(t)).filter((t) => /bench|chaos/.test(t))).toEqual([]);
    expect(tarballs.length).toBeGreaterThanOrEqual(8);
    installWithScript(root, join(work, 'cli-packages'), app);
    const keel = (args: string[]) => installedKeel(app, args, 120_000);
    expect(ok(await keel(['--version']), 'keel --version').stdout).toMatch(/^keel \d+\.\d+\.\d+/);
    await scenario(keel, join(app, 'cluster'), true);

    // The optional tools are not installed with the CLI: their commands say what to install.
    const bench = await keel(['bench', 'write']);
    expect(bench.code).toBe(3);
    expect(bench.stderr).toMatch(/needs the @keel\/bench package.*npm install -g @keel\/bench/s);
    expect(
      JSON.parse(readFileSync(join(app, 'node_modules', '@keel', 'cli', 'package.json'), 'utf8')).exports[
        '.'
      ],
    ).not.toHaveProperty('source');
  }, 900_000);

  it('run through npx from the tarballs: the same secured cluster and failover', async () => {
    const app = join(work, 'npx');
    mkdirSync(app);
    const packages = cliTarballs(join(work, 'npx-packages')).flatMap((t) => ['--package', t]);
    const keel = (args: string[]) =>
      runIn(app, 'npx', ['--yes', '--prefer-offline', ...packages, '--', 'keel', ...args], 300_000);
    await scenario(keel, join(app, 'cluster'), true);
    expect(existsSync(join(app, 'cluster'))).toBe(true);
  }, 900_000);
});
