import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a package.json this tool reads. */
export interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly private?: boolean;
  readonly description?: string;
  readonly license?: string;
  readonly type?: string;
  readonly engines?: Readonly<Record<string, string>>;
  readonly repository?: { readonly type?: string; readonly url?: string; readonly directory?: string };
  readonly homepage?: string;
  readonly bugs?: { readonly url?: string };
  readonly exports?: unknown;
  readonly bin?: string | Readonly<Record<string, string>>;
  readonly files?: readonly string[];
  readonly scripts?: Readonly<Record<string, string>>;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

export interface WorkspacePackage {
  /** Directory relative to the workspace root, e.g. `packages/core`. */
  readonly dir: string;
  readonly manifest: Manifest;
}

const GROUPS = ['packages', 'apps', 'tools', 'examples'] as const;

/** The workspace root: the nearest directory above this file that holds pnpm-workspace.yaml. */
export function workspaceRoot(from: string = new URL('.', import.meta.url).pathname): string {
  let dir = from;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = join(dir, '..');
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
    dir = parent;
  }
  return dir;
}

/** Every workspace package, public or not, in a stable order. */
export function workspacePackages(root: string): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const group of GROUPS) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const name of readdirSync(groupDir).sort()) {
      const file = join(groupDir, name, 'package.json');
      if (!existsSync(file)) continue;
      out.push({ dir: `${group}/${name}`, manifest: JSON.parse(readFileSync(file, 'utf8')) as Manifest });
    }
  }
  return out;
}

/** The packages meant for the registry (not `private`). */
export function publicPackages(root: string): WorkspacePackage[] {
  return workspacePackages(root).filter((p) => p.manifest.private !== true);
}
