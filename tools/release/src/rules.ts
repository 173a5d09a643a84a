// What a published Keel package must look like, as plain functions from a manifest (and the files
// of its tarball) to the problems found, so each rule is tested on its own and `release:check`
// reports every problem at once rather than the first.
import type { Manifest } from './workspace.js';

/** The Node.js range every package declares: `require()` of these ES modules needs 20.19 or 22.12. */
export const NODE_ENGINES = '^20.19.0 || >=22.12.0';
export const PREPACK = 'node ../../scripts/prepack.mjs';

/** Problems of a public package's manifest in the repository. */
export function sourceManifestProblems(m: Manifest, dir: string, root: Manifest): string[] {
  const problems: string[] = [];
  const need = (ok: boolean, what: string): void => {
    if (!ok) problems.push(what);
  };
  need(typeof m.description === 'string' && m.description.length > 0, 'no description');
  need(m.license === root.license, `license is ${m.license}, the project's is ${root.license}`);
  need(m.type === 'module', 'type is not "module"');
  need(m.repository?.url === root.repository?.url, `repository.url is not ${root.repository?.url}`);
  need(m.repository?.directory === dir, `repository.directory is not ${dir}`);
  need(m.homepage?.startsWith(repoWebUrl(root)) === true, 'homepage does not point into the repository');
  need(m.bugs?.url === root.bugs?.url, `bugs.url is not ${root.bugs?.url}`);
  need(m.engines?.node === NODE_ENGINES, `engines.node is not "${NODE_ENGINES}"`);
  need(
    m.scripts?.prepack === PREPACK,
    `no prepack script "${PREPACK}" (a tarball must never lack its build)`,
  );
  need(m.files?.includes('dist') === true, 'files does not include dist');
  need(m.exports !== undefined || m.bin !== undefined, 'neither exports nor bin');
  for (const [path, conditions] of exportEntries(m.exports)) {
    need('types' in conditions, `export ${path} has no types`);
    need('default' in conditions, `export ${path} has no default`);
  }
  return problems;
}

/** Problems of the manifest as packed (after .pnpmfile.cjs and the workspace: protocol rewrite). */
export function packedManifestProblems(m: Manifest): string[] {
  const problems: string[] = [];
  if (JSON.stringify(m.exports ?? {}).includes('"source"'))
    problems.push('exports still carry the source condition');
  if (m.scripts !== undefined) problems.push('scripts are published');
  for (const [field, deps] of [
    ['dependencies', m.dependencies],
    ['peerDependencies', m.peerDependencies],
  ] as const) {
    for (const [name, range] of Object.entries(deps ?? {})) {
      if (/^(workspace|catalog|link|file):/.test(range)) problems.push(`${field}.${name} is "${range}"`);
      else if (!/^\^\d+\.\d+\.\d+/.test(range))
        problems.push(`${field}.${name} is "${range}", not a caret range`);
    }
  }
  return problems;
}

/** Problems of the files in a tarball: what the manifest names must be there; links must work on the registry. */
export function tarballProblems(m: Manifest, files: ReadonlySet<string>, readme: string | null): string[] {
  const problems: string[] = [];
  const targets = [...exportEntries(m.exports).flatMap(([, c]) => Object.values(c))];
  const bins = typeof m.bin === 'string' ? [m.bin] : Object.values(m.bin ?? {});
  for (const target of [...targets, ...bins]) {
    const path = target.replace(/^\.\//, '');
    if (!files.has(path)) problems.push(`${target} is named by the manifest but not in the tarball`);
  }
  if (!files.has('LICENSE')) problems.push('no LICENSE file');
  if (readme === null) problems.push('no README.md');
  else
    for (const link of relativeLinks(readme))
      problems.push(`README links to ${link}, which breaks on the registry page`);
  return problems;
}

/** Markdown link targets that are neither absolute URLs nor in-page anchors. */
export function relativeLinks(markdown: string): string[] {
  const out: string[] = [];
  for (const match of markdown.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1] ?? '';
    if (!/^(https?:|mailto:|#)/.test(target)) out.push(target);
  }
  return out;
}

/** `https://github.com/o/r` from the root manifest's `git+https://github.com/o/r.git`. */
export function repoWebUrl(root: Manifest): string {
  return (root.repository?.url ?? '').replace(/^git\+/, '').replace(/\.git$/, '');
}

/** Each subpath of an exports map with its conditions (string targets count as `default`). */
// keel-lint-allow-object-map: package.json export conditions (JSON from a manifest), never member ids
function exportEntries(exports: unknown): Array<[string, Record<string, string>]> {
  if (exports === undefined || exports === null) return [];
  if (typeof exports === 'string') return [['.', { default: exports }]];
  return Object.entries(exports as Record<string, unknown>).map(([path, target]) => [
    path,
    typeof target === 'string' ? { default: target } : flat(target as Record<string, unknown>),
  ]);
}

// keel-lint-allow-object-map: export conditions by name (JSON from a manifest), never member ids
function flat(conditions: Record<string, unknown>): Record<string, string> {
  // keel-lint-allow-object-map: as above
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(conditions)) {
    if (typeof value === 'string') out[key] = value;
    else if (value !== null && typeof value === 'object')
      Object.assign(out, flat(value as Record<string, unknown>));
  }
  return out;
}

/** Links into this repository's `main` branch (`<repo>/blob/main/<path>`) whose path does not exist. */
export function brokenRepoLinks(
  markdown: string,
  repoUrl: string,
  exists: (path: string) => boolean,
): string[] {
  const out: string[] = [];
  const prefix = new RegExp(
    `^${repoUrl.replaceAll(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/(?:blob|tree)/main/([^#]+)`,
  );
  for (const match of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
    const path = prefix.exec(match[1] ?? '')?.[1];
    if (path !== undefined && !exists(path)) out.push(match[1] ?? '');
  }
  return out;
}
