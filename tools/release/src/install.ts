import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Installs tarballs into `dir` with plain npm, as a user without pnpm would: an empty project,
 * `npm install <tarballs>`, third-party dependencies from the registry.
 */
export function npmInstall(dir: string, tarballs: readonly string[]): void {
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'keel-install-check', private: true }, null, 2)}\n`,
  );
  const r = spawnSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs],
    { cwd: dir, encoding: 'utf8', env: npmEnv() },
  );
  if (r.status !== 0) throw new Error(`npm install failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
}

/**
 * The environment for npm and the installed `keel`: the caller's, without what the workspace sets
 * (pnpm's npm_* variables, KEEL_* overrides) so the install behaves as on a user's machine.
 */
export function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('npm_') || key.startsWith('KEEL_') || key === 'INIT_CWD' || key === 'NODE_OPTIONS')
      continue;
    env[key] = value;
  }
  return env;
}
