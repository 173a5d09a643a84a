import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('examples/seeds.ts runs ten clean seeds, then catches a planted double vote that replays identically', () => {
    const file = fileURLToPath(new URL('../examples/seeds.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      timeout: 120_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('10 seeds, 0 violations');
    expect(r.stdout).toMatch(/planted bug caught at seed \d+: vote-once at /);
    expect(r.stdout).toContain('replays identically: true');
  });
});
