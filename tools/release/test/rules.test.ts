import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  brokenRepoLinks,
  type Manifest,
  NODE_ENGINES,
  packedManifestProblems,
  publicPackages,
  relativeLinks,
  repoWebUrl,
  sourceManifestProblems,
  tarballProblems,
  workspaceRoot,
} from '../src/index.js';

const root = workspaceRoot();
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
const repo = repoWebUrl(rootManifest);

describe('the public packages in the repository', () => {
  const packages = publicPackages(root);

  it('include the CLI, the member program and every library', () => {
    const names = packages.map((p) => p.manifest.name);
    for (const name of ['@keel/cli', '@keel/node', '@keel/core', '@keel/log', '@keel/kv', '@keel/server']) {
      expect(names).toContain(name);
    }
  });

  it.each(packages.map((p) => [p.manifest.name, p] as const))('%s has a publishable manifest', (_, p) => {
    expect(sourceManifestProblems(p.manifest, p.dir, rootManifest)).toEqual([]);
  });

  it.each(packages.map((p) => [p.manifest.name, p] as const))('%s links only to what exists', (_, p) => {
    const readme = readFileSync(join(root, p.dir, 'README.md'), 'utf8');
    expect(relativeLinks(readme)).toEqual([]);
    expect(brokenRepoLinks(readme, repo, (path) => existsSync(join(root, path)))).toEqual([]);
  });
});

describe('manifest rules', () => {
  const good: Manifest = {
    name: '@keel/x',
    version: '0.1.0',
    description: 'x',
    license: 'MIT',
    type: 'module',
    repository: { type: 'git', url: rootManifest.repository?.url ?? '', directory: 'packages/x' },
    homepage: `${repo}/tree/main/packages/x#readme`,
    bugs: { url: rootManifest.bugs?.url ?? '' },
    engines: { node: NODE_ENGINES },
    scripts: { prepack: 'node ../../scripts/prepack.mjs' },
    files: ['dist'],
    exports: { '.': { source: './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' } },
  };

  it('accept a complete manifest and name each missing part', () => {
    expect(sourceManifestProblems(good, 'packages/x', rootManifest)).toEqual([]);
    const { scripts: _s, engines: _e, ...bare } = good;
    const problems = sourceManifestProblems(
      { ...bare, exports: { '.': './dist/index.js' } },
      'packages/y',
      rootManifest,
    );
    expect(problems.join('\n')).toMatch(/engines\.node/);
    expect(problems.join('\n')).toMatch(/prepack/);
    expect(problems.join('\n')).toMatch(/repository\.directory is not packages\/y/);
    expect(problems.join('\n')).toMatch(/export \. has no types/);
  });

  it('refuse a packed manifest with sources, scripts, workspace or pinned ranges', () => {
    const problems = packedManifestProblems({
      ...good,
      dependencies: { '@keel/core': 'workspace:^', pino: '10.4.0', zeromq: '^6.8.0' },
    });
    expect(problems).toEqual([
      'exports still carry the source condition',
      'scripts are published',
      'dependencies.@keel/core is "workspace:^"',
      'dependencies.pino is "10.4.0", not a caret range',
    ]);
  });

  it('need every named file, a licence and registry-safe links in the tarball', () => {
    const packed: Manifest = {
      ...good,
      exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    };
    const files = new Set(['package.json', 'dist/index.js', 'README.md']);
    expect(tarballProblems(packed, files, 'see [api](docs/api.md) and [x](https://x.org) [y](#y)')).toEqual([
      './dist/index.d.ts is named by the manifest but not in the tarball',
      'no LICENSE file',
      'README links to docs/api.md, which breaks on the registry page',
    ]);
  });

  it('find links into the repository that point nowhere', () => {
    const md = `[a](${repo}/blob/main/README.md) [b](${repo}/tree/main/nowhere#x) [c](https://example.org/blob/main/x)`;
    expect(brokenRepoLinks(md, repo, (p) => p === 'README.md')).toEqual([`${repo}/tree/main/nowhere#x`]);
  });
});
