#!/usr/bin/env node
// Entry point for the root npm scripts. It makes `npm start` and `npm test` work on a fresh clone
// with only Node and npm: it obtains the pinned pnpm through npm (Corepack is not available on
// every machine), installs the workspace from the lockfile, then runs the requested job.
// Only Node built-ins are used here, because nothing else is installed yet when it starts.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureBuilt } from './fresh-build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmVersion = rootPkg.packageManager.replace(/^pnpm@/, '');
const toolsDir = join(root, '.tools', `pnpm-${pnpmVersion}`);
const pnpmBin = join(toolsDir, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');

function say(line) {
  process.stderr.write(`keel: ${line}\n`);
}

// Children (turbo in particular) must find the pinned pnpm on PATH.
const childEnv = {
  ...process.env,
  PATH: `${join(toolsDir, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
};

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env: childEnv, ...opts });
  if (r.error) {
    say(`could not run ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  return r.status ?? 1;
}

function ensurePnpm() {
  if (existsSync(pnpmBin)) return;
  say(`installing pnpm ${pnpmVersion} into .tools/ (once)`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const code = run(npm, [
    'install',
    '--no-save',
    '--no-package-lock',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    '--prefix',
    toolsDir,
    `pnpm@${pnpmVersion}`,
  ]);
  if (code !== 0 || !existsSync(pnpmBin)) {
    say('could not install pnpm through npm; check access to the npm registry');
    process.exit(code || 1);
  }
}

function pnpm(args, opts) {
  return run(process.execPath, [pnpmBin, ...args], opts);
}

// Installing is skipped when node_modules is newer than the lockfile and every manifest, so a
// warm `npm test` or `npm start` costs nothing here.
function installIsFresh() {
  const marker = join(root, 'node_modules', '.modules.yaml');
  if (!existsSync(marker)) return false;
  const installedAt = statSync(marker).mtimeMs;
  const inputs = [
    join(root, 'pnpm-lock.yaml'),
    join(root, 'package.json'),
    join(root, 'pnpm-workspace.yaml'),
  ];
  for (const group of ['packages', 'apps', 'tools', 'examples']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const manifest = join(dir, name, 'package.json');
      if (existsSync(manifest)) inputs.push(manifest);
      if (!existsSync(join(dir, name, 'node_modules')) && existsSync(manifest)) return false;
    }
  }
  return inputs.every((f) => !existsSync(f) || statSync(f).mtimeMs <= installedAt);
}

function ensureInstalled() {
  if (installIsFresh()) return;
  say('installing dependencies (pnpm install --frozen-lockfile)');
  const code = pnpm(['install', '--frozen-lockfile', '--prefer-offline', '--reporter=append-only']);
  if (code !== 0) {
    say('pnpm install failed; see the output above');
    process.exit(code);
  }
}

// Vitest writes one JSON report per package; the sum is printed as one plain closing line so a
// reader (or CI) sees the whole suite's result at a glance.
function summarizeTests() {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let files = 0;
  for (const group of ['packages', 'apps', 'tools', 'examples']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const report = join(dir, name, '.vitest-report.json');
      if (!existsSync(report)) continue;
      try {
        const r = JSON.parse(readFileSync(report, 'utf8'));
        passed += r.numPassedTests ?? 0;
        failed += r.numFailedTests ?? 0;
        skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
        files += 1;
      } catch {
        say(`unreadable test report ${report}`);
        failed += 1;
      }
    }
  }
  return { passed, failed, skipped, files };
}

function clearReports() {
  for (const group of ['packages', 'apps', 'tools', 'examples']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) rmSync(join(dir, name, '.vitest-report.json'), { force: true });
  }
}

/**
 * Runs the built `keel` (apps/cli/bin/keel.mjs) in this process, building it and what it uses first
 * when a source changed since the last build; a warm call starts no pnpm, no turbo and no second
 * Node.js. The CLI sets the exit code and its own signal handling.
 */
async function keel(args) {
  const built = ensureBuilt(root, 'apps/cli', () => {
    say('building the keel CLI and the packages it uses (turbo, cached)');
    return pnpm(['exec', 'turbo', 'run', 'build', '--filter=@keel/cli...', '--output-logs=errors-only']);
  });
  if (built !== 0) {
    say('the build failed; see the output above');
    process.exit(built);
  }
  const bin = join(root, 'apps', 'cli', 'bin', 'keel.mjs');
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  // The user's directory, not the checkout's: relative paths (--dir, snapshot files) mean theirs.
  process.chdir(process.env.INIT_CWD ?? process.cwd());
  process.argv = [process.execPath, bin, ...args];
  await import(pathToFileURL(bin).href);
}

const [job, ...rest] = process.argv.slice(2);
if (job === 'start' || job === 'keel') {
  // Ctrl-C reaches the whole foreground group; the CLI handles it (an orderly cluster stop), so this
  // wrapper must outlive it instead of dying first.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
}
ensurePnpm();
ensureInstalled();

switch (job) {
  case 'test': {
    clearReports();
    // turbo.json marks `test` uncached: tests always run for real; builds stay cached.
    // --continue: one failing package must not cut the others short (every summary is printed).
    // --concurrency=2: packages that run real processes and timing-sensitive fault tests must not
    // all compete for the two cores at once.
    const code = pnpm([
      'exec',
      'turbo',
      'run',
      'test',
      '--continue',
      '--concurrency=2',
      '--output-logs=full',
      ...rest,
    ]);
    const s = summarizeTests();
    process.stdout.write(`\ntest: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped\n`);
    process.exit(code !== 0 || s.failed > 0 || s.passed === 0 ? code || 1 : 0);
    break;
  }
  case 'start':
    await keel(['cluster', 'up', ...rest]);
    break;
  case 'keel':
    await keel(rest);
    break;
  case 'release-check':
    process.exit(pnpm(['--filter', '@keel/release-check', 'run', '--silent', 'release:check', ...rest]));
    break;
  case 'sim':
    process.exit(pnpm(['--filter', '@keel/sim-cli', 'run', '--silent', 'sim', ...rest]));
    break;
  case 'bench':
    process.exit(pnpm(['exec', 'turbo', 'run', 'bench', '--output-logs=full', '--concurrency=1', ...rest]));
    break;
  default:
    say(`unknown job '${job ?? ''}' (expected test, start, keel, sim, bench or release-check)`);
    process.exit(2);
}
