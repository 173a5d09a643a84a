import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Runs one of the README's examples as a user would (tsx, the package's own directory). */
function runExample(name: string) {
  const file = fileURLToPath(new URL(`../examples/${name}`, import.meta.url));
  return spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('..', import.meta.url)),
  });
}

describe('README example', () => {
  it('examples/store.ts runs and prints what the README says', () => {
    const r = runExample('store.ts');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        'session: 1',
        "put: { ok: true, type: 'put', revision: 1, version: 1 }",
        "retry: { ok: true, type: 'put', revision: 1, version: 1 }",
        "cas: { ok: true, type: 'cas', revision: 2, version: 2 }",
        'cas again: compare-failed - expected version 1, found version 2 - current value: hi',
        "scan: [ 'user/1', 'user/2' ] more: true",
        "next: [ 'user/3' ] more: false",
        'restored: hi revision 5',
        'after expiry: {',
        '  ok: false,',
        "  code: 'session-expired',",
        "  message: 'session 1 expired or was closed; register a new one'",
        '}',
        '',
      ].join('\n'),
    );
  });

  it('examples/watch.ts runs and prints what the README says', () => {
    const r = runExample('watch.ts');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        "batch: [ 'put cfg/a@1', 'put cfg/a@3 (was 1)', 'delete cfg/a@4 (was 2)' ]",
        "then: { kind: 'idle', revision: 4 }",
        'from 1 now: {',
        "  kind: 'ended',",
        "  reason: 'compacted',",
        "  message: 'revision 1 is compacted on this member: the oldest revision available is 5',",
        '  oldest: 5',
        '}',
        '',
      ].join('\n'),
    );
  });
});
