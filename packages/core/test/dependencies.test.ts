import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

/**
 * Issue #16: `@keel/core` is the bottom of the package graph. It depended on `@keel/checker` at run
 * time only because the simulator lived in its testing kit; the simulator is `@keel/sim` now, and
 * nothing may pull a workspace package (or any other) back in.
 */
describe('@keel/core depends on nothing at run time', () => {
  it('package.json lists no dependencies (vitest is an optional peer, for the conformance suite)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.dependencies).toBeUndefined();
    expect(Object.keys((pkg.peerDependencies ?? {}) as object)).toEqual(['vitest']);
  });

  it('src imports no package, except vitest in the conformance suite and fast-check types in the property kit', () => {
    const allowed: Record<string, readonly string[]> = {
      'src/testing/logStoreSuite.ts': ['vitest'],
      'src/testing/property.ts': ['fast-check'],
    };
    const files = sources(join(root, 'src'));
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      const name = relative(root, file).split('\\').join('/');
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      const bare = [...code.matchAll(/(?:^|\s)(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)]
        .map((m) => m[1]!)
        .filter((s) => !s.startsWith('.'));
      expect(bare, `${name} imports ${bare.join(', ')}`).toEqual(allowed[name] ?? []);
    }
  });

  it('the property kit takes fast-check as types only', () => {
    const code = readFileSync(join(root, 'src/testing/property.ts'), 'utf8');
    expect(code).toMatch(/^import type \{[^}]*\} from 'fast-check';$/m);
  });
});
