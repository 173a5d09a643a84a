import { copyFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { PackedPackage } from './check.js';
import type { WorkspacePackage } from './workspace.js';

/**
 * The packages `npm install <name>` brings along from this workspace: the package and, transitively,
 * its runtime dependencies (not dev dependencies, not optional peers such as the CLI's bench/chaos).
 */
export function runtimeClosure(name: string, packages: readonly WorkspacePackage[]): string[] {
  const byName = new Map(packages.map((p) => [p.manifest.name, p.manifest]));
  const seen = new Set<string>();
  const visit = (n: string): void => {
    if (seen.has(n) || !byName.has(n)) return;
    seen.add(n);
    for (const dep of Object.keys(byName.get(n)?.dependencies ?? {})) visit(dep);
  };
  visit(name);
  return [...seen];
}

/** Copies the tarballs of `names` into `dir` (created): what deploy/install.sh installs from. */
export function copyTarballs(
  packed: readonly PackedPackage[],
  names: readonly string[],
  dir: string,
): string[] {
  mkdirSync(dir, { recursive: true });
  const wanted = new Set(names);
  const out: string[] = [];
  for (const p of packed) {
    if (!wanted.has(p.name)) continue;
    const to = join(dir, basename(p.tarball));
    copyFileSync(p.tarball, to);
    out.push(to);
  }
  return out;
}
