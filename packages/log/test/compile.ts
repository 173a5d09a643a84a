/**
 * Compiles a TypeScript entry point and everything it imports at run time (relative modules and
 * workspace packages through their `source` export) to plain ES modules in a temp directory, so a
 * test can start it with bare `node` (~0.1 s) instead of `node --import tsx` (~0.6 s): the kill test
 * starts a hundred children. Always built from the current sources, never from a stale dist.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  // Keep every import as written: the sources mark type-only imports with `import type`.
  verbatimModuleSyntax: true,
  sourceMap: false,
};

/** The `source` entry of a workspace package's export, resolved from the importing file. */
async function resolveWorkspace(spec: string, from: string): Promise<string | null> {
  const m = /^(@keel\/[^/]+)(\/.*)?$/.exec(spec);
  if (!m) return null;
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', m[1]!);
    const json = await readFile(join(pkgDir, 'package.json'), 'utf8').catch(() => null);
    if (json !== null) {
      const exp = (JSON.parse(json) as { exports?: Record<string, { source?: string }> }).exports;
      const source = exp?.[`.${m[2] ?? ''}`]?.source;
      if (!source) throw new Error(`${spec}: no "source" export`);
      return resolve(pkgDir, source);
    }
    if (dirname(dir) === dir) throw new Error(`cannot resolve ${spec} from ${from}`);
  }
}

export async function compileForNode(entry: string): Promise<{ file: string; cleanup: () => Promise<void> }> {
  const out = await mkdtemp(join(tmpdir(), 'keel-compiled-'));
  const root = resolve(entry, '/');
  const target = (src: string) => join(out, relative(root, src)).replace(/\.ts$/, '.js');
  const done = new Set<string>();
  const queue = [resolve(entry)];
  while (queue.length > 0) {
    const src = queue.pop()!;
    if (done.has(src)) continue;
    done.add(src);
    let js = ts.transpileModule(await readFile(src, 'utf8'), {
      compilerOptions: COMPILER_OPTIONS,
      fileName: src,
    }).outputText;
    // Only what survived transpilation is a run-time import.
    for (const { fileName: spec } of ts.preProcessFile(js, true, true).importedFiles) {
      let dep: string | null = null;
      if (spec.startsWith('.')) {
        dep = resolve(dirname(src), spec).replace(/\.js$/, '.ts');
      } else {
        dep = await resolveWorkspace(spec, src);
        if (dep !== null) {
          let rel = relative(dirname(target(src)), target(dep))
            .split(sep)
            .join('/');
          if (!rel.startsWith('.')) rel = `./${rel}`;
          js = js.replaceAll(`'${spec}'`, `'${rel}'`).replaceAll(`"${spec}"`, `"${rel}"`);
        }
      }
      if (dep !== null) queue.push(dep);
    }
    await mkdir(dirname(target(src)), { recursive: true });
    await writeFile(target(src), js);
  }
  // Plain .js files under a directory without package.json would load as CommonJS.
  await writeFile(join(out, 'package.json'), '{"type":"module"}\n');
  return { file: target(resolve(entry)), cleanup: () => rm(out, { recursive: true, force: true }) };
}
