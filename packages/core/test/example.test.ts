import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('examples/three-nodes.ts elects a leader and every node applies the entry', () => {
    const file = fileURLToPath(new URL('../examples/three-nodes.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^leader: [abc] \(term \d+\)/);
    for (const id of ['a', 'b', 'c']) expect(r.stdout).toContain(`${id} applied: [ 'hello, raft' ]`);
  });

  it('examples/in-process.ts: a real-time cluster in one process commits 100 commands and exits on its own', () => {
    const file = fileURLToPath(new URL('../examples/in-process.ts', import.meta.url));
    // The process must end by itself: a timer or handle left behind would keep it alive until killed.
    const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      timeout: 60_000,
    });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^leader: [abc] \(term \d+\)/);
    expect(r.stdout).toContain('committed: 100, last result 5050');
    for (const id of ['a', 'b', 'c'])
      expect(r.stdout).toMatch(new RegExp(`${id} applied through \\d+: sum 5050`));
    expect(r.stdout).toContain('same sequence on every member: true');
  });

  it('examples/membership.ts adds a joining member through a snapshot, promotes it, removes another', () => {
    const file = fileURLToPath(new URL('../examples/membership.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      timeout: 120_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/d caught up: 25 items, snapshot at \d+/);
    expect(r.stdout).toMatch(/leader now [bcd], voters b,c,d/);
  });
});
