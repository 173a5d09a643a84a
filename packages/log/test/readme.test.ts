/**
 * The README's example runs as written (with `@keel/log` pointing at this package's source), so
 * the first thing a user copies works.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));
let tmp: string | null = null;

afterEach(async () => {
  vi.restoreAllMocks();
  if (tmp !== null) await rm(tmp, { recursive: true, force: true });
  tmp = null;
});

describe('README', () => {
  it('the example at the top runs and prints what its comments say', async () => {
    const readme = await readFile(join(here, '../README.md'), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const index = join(here, '../src/index.ts');
    tmp = await mkdtemp(join(tmpdir(), 'keel-log-readme-'));
    const file = join(tmp, 'example.ts');
    await writeFile(file, code!.replace(`from '@keel/log'`, `from ${JSON.stringify(index)}`));
    const printed: unknown[][] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args);
    });
    await import(/* @vite-ignore */ file);
    expect(printed).toEqual([
      ['durable up to', 2],
      [2, 2, { term: 1, vote: 'n1', commit: 0 }],
    ]);
  });
});
