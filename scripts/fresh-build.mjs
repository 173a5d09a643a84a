// Decides whether a workspace program's build is current, without starting pnpm or turbo: a warm
// `pnpm keel ...` must cost one Node start, not a build check of several hundred milliseconds.
// The build is current when a stamp written after the last successful build is newer than every
// source, manifest and tsconfig of the program's package and of the workspace packages it uses.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

const GROUPS = ['packages', 'apps', 'tools'];

/** Maps each workspace package name to its directory. */
function workspacePackages(root) {
  const byName = new Map();
  for (const group of GROUPS) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const manifest = join(dir, name, 'package.json');
      if (existsSync(manifest)) byName.set(JSON.parse(readFileSync(manifest, 'utf8')).name, join(dir, name));
    }
  }
  return byName;
}

/** The package at `dir` and every workspace package it depends on (dev dependencies too: lazy tools). */
function closure(dir, byName, seen = new Set()) {
  if (seen.has(dir)) return seen;
  seen.add(dir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const deps of [pkg.dependencies, pkg.devDependencies]) {
    for (const [name, spec] of Object.entries(deps ?? {})) {
      const target = byName.get(name);
      if (target !== undefined && String(spec).startsWith('workspace:')) closure(target, byName, seen);
    }
  }
  return seen;
}

function newestUnder(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestUnder(join(path, name)));
  return newest;
}

function newestInput(dirs) {
  let newest = 0;
  for (const dir of dirs) {
    for (const input of ['src', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) {
      newest = Math.max(newest, newestUnder(join(dir, input)));
    }
  }
  return newest;
}

/**
 * Builds the program in `programDir` (a path under `root`) when any of its inputs changed since the
 * last successful build; `build()` runs the build and returns its exit code.
 * @returns 0 when the build is current (or was made so), else the build's exit code.
 */
export function ensureBuilt(root, programDir, build) {
  const stamp = join(root, 'node_modules', '.cache', `keel-built-${programDir.replaceAll(/[\\/]/g, '-')}`);
  const dirs = closure(join(root, programDir), workspacePackages(root));
  const inputs = Math.max(newestInput(dirs), newestUnder(join(root, 'tsconfig.base.json')));
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= inputs) return 0;
  const startedAt = new Date();
  const code = build();
  if (code !== 0) return code;
  // Stamped with the start time: a source saved while the build ran makes the next call build again.
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, startedAt.toISOString());
  utimesSync(stamp, startedAt, startedAt);
  return 0;
}
