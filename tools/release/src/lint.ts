import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

/**
 * publint's findings (warnings and errors) on a packed tarball, as readable lines.
 */
export async function publintProblems(tarball: Uint8Array): Promise<string[]> {
  const result = await publint({ pack: { tarball: tarball.slice().buffer }, level: 'warning', strict: true });
  return result.messages.map((m) => formatMessage(m, result.pkg) ?? m.code);
}

// Keel's packages are ES modules only. Resolution under node10 and node16-cjs (a CommonJS caller
// that uses `require`) is out of scope, as in attw's "esm-only" profile; engines names the Node.js
// versions where require() of an ES module works.
const IGNORED_KINDS = new Set(['node10', 'node16-cjs']);

/** are-the-types-wrong's findings on a packed tarball, for ESM consumers (node16-esm and bundler). */
export async function typesProblems(tarball: Uint8Array): Promise<string[]> {
  const result = await checkPackage(createPackageFromTarballData(tarball));
  if (result.types === false) return ['the package ships no types'];
  return result.problems
    .filter((p) => !('resolutionKind' in p) || !IGNORED_KINDS.has(p.resolutionKind))
    .map((p) => {
      const where = 'entrypoint' in p ? ` at ${p.entrypoint}` : '';
      const how = 'resolutionKind' in p ? ` (${p.resolutionKind})` : '';
      return `${p.kind}${where}${how}`;
    });
}
