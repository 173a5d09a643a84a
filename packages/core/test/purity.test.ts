import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const raftDir = fileURLToPath(new URL('../src/raft/', import.meta.url));

/** DESIGN.md: src/raft is pure. It imports only itself and touches no clock, timer, RNG or I/O. */
describe('src/raft purity', () => {
  const files = readdirSync(raftDir).filter((f) => f.endsWith('.ts'));

  it('has files to check', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  for (const f of files) {
    it(`${f} imports nothing outside src/raft and uses no ambient effects`, () => {
      const text = readFileSync(join(raftDir, f), 'utf8');
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      const specifiers = [...code.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
      for (const s of specifiers) expect(s, `${f} imports ${s}`).toMatch(/^\.\/[A-Za-z]+\.js$/);
      const banned = [
        /Math\.random/,
        /\bDate\b/,
        /\bset(Timeout|Interval|Immediate)\b/,
        /\bprocess\./,
        /\bperformance\./,
        /\bconsole\./,
        /\brequire\(/,
      ];
      for (const b of banned) expect(b.test(code), `${f} matches ${b}`).toBe(false);
    });
  }
});
