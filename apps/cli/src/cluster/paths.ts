import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memberProgramPath } from '@keel/node/program';

// This file is apps/cli/src/cluster/paths.ts (or dist/cluster/paths.js): the checkout is four
// levels up either way, so the same arithmetic works from source (`pnpm keel`) and from the build.
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** The checkout this CLI runs from, or null when it was installed elsewhere. */
export function repoRoot(): string | null {
  return existsSync(join(REPO_ROOT, 'pnpm-workspace.yaml')) && existsSync(join(REPO_ROOT, 'apps', 'node'))
    ? REPO_ROOT
    : null;
}

/** Overrides the member program (tests use a fake member; also handy for a custom build). */
export const MEMBER_PROGRAM_ENV = 'KEEL_MEMBER_PROGRAM';
/** Overrides the default cluster directory (a `--dir` flag still wins). */
export const CLUSTER_DIR_ENV = 'KEEL_CLUSTER_DIR';

/** The script every member runs: @keel/node's build, unless the environment names another. */
export function memberProgram(env: Readonly<Record<string, string | undefined>>): string {
  const override = env[MEMBER_PROGRAM_ENV];
  if (override !== undefined && override !== '') return resolve(override);
  return memberProgramPath();
}

function inside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * `<repo>/.cluster` (git-ignored) when the command runs inside the checkout it belongs to, as
 * `npm start` and `pnpm keel` do; `./keel-cluster` anywhere else.
 */
export function defaultClusterDir(cwd: string, env: Readonly<Record<string, string | undefined>>): string {
  const fromEnv = env[CLUSTER_DIR_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(cwd, fromEnv);
  const root = repoRoot();
  if (root !== null && inside(root, resolve(cwd))) return join(root, '.cluster');
  return resolve(cwd, 'keel-cluster');
}
