import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Installs the tarballs in `packagesDir` into `prefix` with plain npm, through deploy/install.sh,
 * the script the Dockerfile runs: an empty project, `npm install <tarballs>`, third-party
 * dependencies from the registry, as on a machine without pnpm.
 */
export function installWithScript(root: string, packagesDir: string, prefix: string): void {
  const r = spawnSync('sh', [join(root, 'deploy', 'install.sh'), packagesDir, prefix], {
    encoding: 'utf8',
    env: { ...npmEnv(), npm_config_prefer_offline: 'true' },
  });
  if (r.status !== 0) throw new Error(`deploy/install.sh failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
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
