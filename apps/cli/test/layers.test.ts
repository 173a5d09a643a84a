/**
 * The layers of the README, enforced twice (as the purity test and its Biome override are): the
 * Biome `noRestrictedImports` overrides in biome.json must fire on a wrong import written into
 * each folder (and stay quiet on a right one), and every workspace package.json must depend only
 * on what the README's layer table allows.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIOME = join(ROOT, 'node_modules', '.bin', 'biome');

/** A file written under a copy of the repo's folders, and what Biome must say about it. */
interface Fixture {
  readonly path: string;
  readonly source: string;
  /** A phrase of the ban's message; null: the import is allowed. */
  readonly ban: string | null;
}

const UP = 'packages never import apps or tools';
const SIDEWAYS = 'they never import each other';
const FRONT_END = 'only through the lazy front ends';
const TOOLS = 'tools do not use each other as libraries';
const OPS = '@keel/ops knows member processes from the outside only';
const SIM = 'The simulator runs the engine over in-memory stores';

const FIXTURES: readonly Fixture[] = [
  { path: 'packages/kv/src/a.ts', source: "import { x } from '@keel/log';", ban: SIDEWAYS },
  { path: 'packages/log/src/a.ts', source: "import { x } from '@keel/transport-zmq';", ban: SIDEWAYS },
  { path: 'packages/transport-zmq/test/a.ts', source: "import { x } from '@keel/kv';", ban: SIDEWAYS },
  { path: 'packages/kv/src/b.ts', source: "import { x } from '@keel/bench';", ban: UP },
  { path: 'packages/core/src/a.ts', source: "import { x } from '@keel/node';", ban: UP },
  { path: 'packages/checker/test/a.ts', source: "import { x } from '@keel/chaos';", ban: UP },
  { path: 'packages/log/test/b.ts', source: "const m = await import('@keel/cli');", ban: UP },
  {
    path: 'packages/core/src/b.ts',
    source: "import { x } from '../../../apps/node/src/config.js';",
    ban: 'by a relative path',
  },
  { path: 'packages/ops/src/a.ts', source: "import { x } from '@keel/core';", ban: OPS },
  { path: 'packages/sim/src/a.ts', source: "import { x } from '@keel/log';", ban: SIM },
  { path: 'packages/sim/src/b.ts', source: "import { x } from '@keel/server';", ban: SIM },
  { path: 'packages/sim/src/c.ts', source: "import { x } from '@keel/node';", ban: UP },
  { path: 'apps/node/src/a.ts', source: "import { x } from '@keel/bench';", ban: FRONT_END },
  { path: 'apps/cli/src/commands/a.ts', source: "const m = await import('@keel/chaos');", ban: FRONT_END },
  { path: 'apps/cli/test/a.ts', source: "import { x } from '@keel/bench';", ban: FRONT_END },
  { path: 'tools/chaos/src/a.ts', source: "import { sleep } from '@keel/bench';", ban: TOOLS },
  // Allowed: imports that point down, and the two lazy front ends.
  { path: 'packages/kv/src/ok.ts', source: "import { x } from '@keel/core';", ban: null },
  { path: 'packages/sim/src/ok.ts', source: "import { x } from '@keel/checker';", ban: null },
  { path: 'packages/log/src/ok.ts', source: "import { x } from './segment.js';", ban: null },
  { path: 'apps/cli/src/cli.ts', source: "const b = await import('@keel/bench');", ban: null },
  { path: 'apps/cli/src/ok.ts', source: "import { x } from '@keel/ops';", ban: null },
  { path: 'tools/chaos/src/ok.ts', source: "import { sleep } from '@keel/ops';", ban: null },
  { path: 'tools/bench/src/ok.ts', source: "import { x } from '@keel/node';", ban: null },
  { path: 'packages/ops/examples/ok.ts', source: "import { x } from '@keel/ops';", ban: null },
];

interface Diagnostic {
  readonly category: string;
  readonly message: string;
  readonly location: { readonly path: string };
}

describe('Biome noRestrictedImports enforces the layers (biome.json overrides)', () => {
  let dir = '';
  let diagnostics: readonly Diagnostic[] = [];

  beforeAll(() => {
    // A copy of biome.json over a tree of fixture files in the repo's folder layout: the overrides
    // match by path, and the real tree stays untouched (other jobs type-check it meanwhile).
    dir = mkdtempSync(join(tmpdir(), 'keel-layers-'));
    copyFileSync(join(ROOT, 'biome.json'), join(dir, 'biome.json'));
    for (const f of FIXTURES) {
      mkdirSync(dirname(join(dir, f.path)), { recursive: true });
      writeFileSync(join(dir, f.path), `${f.source}\nexport const used = typeof x;\n`);
    }
    const r = spawnSync(BIOME, ['lint', '--vcs-enabled=false', '--reporter=json', '.'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const report = JSON.parse(r.stdout) as { diagnostics: Diagnostic[] };
    diagnostics = report.diagnostics.filter((d) => d.category === 'lint/style/noRestrictedImports');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const f of FIXTURES) {
    const what = f.ban === null ? 'allows' : 'refuses';
    it(`${what} ${f.source.replace(/^.*['"](.+)['"].*$/, '$1')} in ${f.path}`, () => {
      const found = diagnostics.filter((d) => d.location.path === f.path).map((d) => d.message);
      if (f.ban === null) expect(found).toEqual([]);
      else {
        expect(found).toHaveLength(1);
        expect(found[0]).toContain(f.ban);
      }
    });
  }
});

interface Workspace {
  readonly folder: string;
  readonly name: string;
  readonly deps: readonly string[];
}

function workspaces(): Workspace[] {
  const out: Workspace[] = [];
  for (const top of ['packages', 'apps', 'tools', 'examples']) {
    for (const sub of readdirSync(join(ROOT, top))) {
      const file = join(ROOT, top, sub, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      const kinds = ['dependencies', 'devDependencies', 'peerDependencies'] as const;
      const deps = kinds.flatMap((k) => Object.keys((pkg[k] as Record<string, string> | undefined) ?? {}));
      out.push({
        folder: `${top}/${sub}`,
        name: pkg.name as string,
        deps: deps.filter((d) => d.startsWith('@keel/')),
      });
    }
  }
  return out;
}

/** The README's layer table: folder → the @keel packages it may depend on. */
function layerTable(): Map<string, Set<string>> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const table = new Map<string, Set<string>>();
  for (const m of readme.matchAll(/^\| ((?:packages|apps|tools|examples)\/[\w-]+) \| (.+) \|$/gm)) {
    table.set(m[1]!, new Set([...m[2]!.matchAll(/`(@keel\/[\w-]+)`/g)].map((n) => n[1]!)));
  }
  return table;
}

describe('the package graph matches the README', () => {
  const all = workspaces();
  const folderOf = new Map(all.map((w) => [w.name, w.folder]));
  const table = layerTable();

  it('finds the workspace and the table', () => {
    expect(all.length).toBeGreaterThan(8);
    expect(table.size).toBeGreaterThan(8);
  });

  for (const w of all) {
    it(`${w.folder} (${w.name}) depends only on what its row allows`, () => {
      const allowed = table.get(w.folder);
      expect(allowed, `add a row for ${w.folder} to the README's layer table`).toBeDefined();
      for (const d of w.deps) expect(allowed?.has(d), `${w.folder} depends on ${d}`).toBe(true);
    });
  }

  // The rules themselves, so the table cannot drift from them.
  it('packages never depend on apps or tools', () => {
    for (const w of all.filter((x) => x.folder.startsWith('packages/')))
      for (const d of w.deps) expect(folderOf.get(d) ?? '', `${w.name} → ${d}`).toMatch(/^packages\//);
  });

  it('log, transport-zmq and kv never depend on each other', () => {
    const siblings = ['@keel/log', '@keel/transport-zmq', '@keel/kv'];
    for (const w of all.filter((x) => siblings.includes(x.name)))
      for (const d of w.deps) expect(siblings, `${w.name} → ${d}`).not.toContain(d);
  });

  it('apps depend on tools only as the lazy front ends of apps/cli; tools/chaos not on bench; ops on nothing', () => {
    for (const w of all.filter((x) => x.folder.startsWith('apps/')))
      for (const d of w.deps.filter((x) => (folderOf.get(x) ?? '').startsWith('tools/')))
        expect(
          w.folder === 'apps/cli' && ['@keel/bench', '@keel/chaos'].includes(d),
          `${w.name} → ${d}`,
        ).toBe(true);
    expect(all.find((x) => x.folder === 'tools/chaos')?.deps).not.toContain('@keel/bench');
    expect(all.find((x) => x.folder === 'packages/ops')?.deps).toEqual([]);
  });
});
