import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = fileURLToPath(new URL('../src/', import.meta.url));
const CLIENT_FILES = new Set(['KvClient.ts', 'KvWatch.ts', 'KvLeases.ts']);

/**
 * The state machine must be deterministic (every member computes the same results from the same
 * log) and usable anywhere: src imports only itself and @keel/core (root and /codec), and reads no clock, timer,
 * random number or process state. Session expiry uses the time logged in entries instead. The
 * exceptions are KvClient.ts, KvWatch.ts and KvLeases.ts, the network client: deadlines and retries need timers.
 */
describe('src purity', () => {
  // Recursive: the recipes (src/recipes/) are held to the same rule.
  const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));

  it('has files to check', () => {
    expect(files.length).toBeGreaterThan(8);
  });

  for (const f of files) {
    it(`${f} imports only ./*.js, @keel/core and @keel/core/codec, and uses no ambient effects`, () => {
      const text = readFileSync(join(srcDir, f), 'utf8');
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      const specifiers = [...code.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
      for (const s of specifiers)
        expect(s, `${f} imports ${s}`).toMatch(
          /^(\.\.?\/([A-Za-z0-9]+\/)?[A-Za-z0-9]+\.js|@keel\/core|@keel\/core\/codec)$/,
        );
      const banned = [
        /Math\.random/,
        /\bDate\b/,
        /\bset(Timeout|Interval|Immediate)\b/,
        /\bprocess\./,
        /\bperformance\./,
        /\bconsole\./,
        /\brequire\(/,
        /\bBuffer\b/,
      ];
      // The network client is the package's I/O edge: deadlines and backoff need a clock and timers.
      // It still imports nothing but @keel/core (and its codec), so the package stays free of network libraries.
      if (CLIENT_FILES.has(f)) return;
      for (const b of banned) expect(b.test(code), `${f} matches ${b}`).toBe(false);
    });
  }
});
