import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { publintProblems, typesProblems } from './lint.js';
import { packPackage } from './pack.js';
import { packedManifestProblems, sourceManifestProblems, tarballProblems } from './rules.js';
import { readTarball } from './tarball.js';
import type { Manifest } from './workspace.js';
import { publicPackages } from './workspace.js';

export interface PackedPackage {
  readonly name: string;
  readonly tarball: string;
  /** Everything wrong with it; empty when it is fit to publish. */
  readonly problems: readonly string[];
}

/**
 * Packs every public package into `dest` and checks it as a registry would show it: the repository
 * manifest, the packed manifest, the tarball's files and README, publint and are-the-types-wrong.
 * `progress` hears one line per package (packing takes seconds each).
 */
export async function checkRelease(
  root: string,
  dest: string,
  progress: (line: string) => void = () => undefined,
): Promise<PackedPackage[]> {
  const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
  const packages = publicPackages(root);
  const out: PackedPackage[] = [];
  for (const [i, pkg] of packages.entries()) {
    progress(`[${i + 1}/${packages.length}] packing ${pkg.manifest.name}`);
    const tarballPath = packPackage(root, pkg, dest);
    const bytes = new Uint8Array(readFileSync(tarballPath));
    const tarball = readTarball(bytes);
    const packed = JSON.parse(tarball.text('package.json') ?? '{}') as Manifest;
    const problems = [
      ...sourceManifestProblems(pkg.manifest, pkg.dir, rootManifest),
      ...packedManifestProblems(packed),
      ...tarballProblems(packed, new Set(tarball.files.keys()), tarball.text('README.md')),
      ...(await publintProblems(bytes)).map((p) => `publint: ${p}`),
      ...(await typesProblems(bytes)).map((p) => `types: ${p}`),
    ];
    out.push({ name: pkg.manifest.name, tarball: tarballPath, problems });
  }
  return out;
}
