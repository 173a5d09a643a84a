import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findIdKeyedObjects } from './helpers/idKeyedObjects.js';

// The rule lives with the member id's definition but guards every package, app and tool (issue #22).
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function sources(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(p);
    }
  };
  for (const layer of ['packages', 'apps', 'tools']) {
    for (const pkg of readdirSync(join(ROOT, layer))) {
      const src = join(ROOT, layer, pkg, 'src');
      if (
        statSync(join(ROOT, layer, pkg)).isDirectory() &&
        readdirSync(join(ROOT, layer, pkg)).includes('src')
      )
        walk(src);
    }
  }
  return files;
}

describe('no plain object keyed by member ids (issue #22)', () => {
  it('flags every planted example and nothing else', () => {
    const text = readFileSync(new URL('./fixtures/idKeyedObjects.planted.txt', import.meta.url), 'utf8');
    const bad = text
      .split('\n')
      .map((l, i) => (l.includes('// BAD') ? i + 1 : 0))
      .filter((n) => n > 0);
    expect(bad.length).toBe(6);
    expect(findIdKeyedObjects(text).map((f) => f.line)).toEqual(bad);
  });

  it('finds none in packages/*/src, apps/*/src and tools/*/src', () => {
    const files = sources();
    expect(files.length).toBeGreaterThan(50);
    const findings = files.flatMap((f) =>
      findIdKeyedObjects(readFileSync(f, 'utf8')).map(
        (x) => `${relative(ROOT, f)}:${x.line} ${x.rule}: ${x.text}`,
      ),
    );
    expect(findings).toEqual([]);
  });
});
