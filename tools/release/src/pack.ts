import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspacePackage } from './workspace.js';

/** The pinned pnpm that scripts/run.mjs installs into .tools/, or `pnpm` from PATH. */
export function pnpmCommand(root: string): { cmd: string; args: string[] } {
  const version = (
    JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { packageManager: string }
  ).packageManager.replace(/^pnpm@/, '');
  const pinned = join(root, '.tools', `pnpm-${version}`, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');
  return existsSync(pinned) ? { cmd: process.execPath, args: [pinned] } : { cmd: 'pnpm', args: [] };
}

/**
 * `pnpm pack` of one package into `dest`: runs its prepack (the build), applies .pnpmfile.cjs and
 * rewrites workspace:/catalog: ranges, exactly as `pnpm publish` would.
 * @returns the tarball's path.
 */
export function packPackage(root: string, pkg: WorkspacePackage, dest: string): string {
  const pnpm = pnpmCommand(root);
  const r = spawnSync(pnpm.cmd, [...pnpm.args, 'pack', '--json', '--pack-destination', dest], {
    cwd: join(root, pkg.dir),
    encoding: 'utf8',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
  });
  if (r.status !== 0) {
    throw new Error(`pnpm pack of ${pkg.manifest.name} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  }
  // --json prints one object after whatever prepack printed.
  const json = r.stdout.slice(r.stdout.lastIndexOf('\n{') + 1);
  const filename = (JSON.parse(json) as { filename: string }).filename;
  return filename.startsWith('/') ? filename : join(dest, filename);
}
