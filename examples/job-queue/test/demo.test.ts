import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('README demo', () => {
  it('demo.ts works off ten jobs across a leader crash and exits on its own', () => {
    const file = fileURLToPath(new URL('../demo.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      timeout: 60_000,
    });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/crashing the leader, [abc]/);
    for (let i = 1; i <= 10; i++) expect(r.stdout).toContain(`email #${i}`);
    expect(r.stdout.match(/: 10 done, 0 queued, 0 leased/g)).toHaveLength(2);
  });
});
