import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/index.js';
import { realCluster, until, upDetached } from './helpers.js';

// Real processes: a 3-member cluster started by `keel cluster up`; `keel put --ttl 2s` attaches a
// key to a new 2 s lease, `keel lease ttl` shows it, and the key is gone once it expires. Every
// PID is killed in afterAll.
const { main: MAIN, cli, cleanup, tmp } = realCluster('lease');
afterAll(cleanup);

describe.skipIf(!existsSync(MAIN))('keel lease and put --ttl against real keel node processes', () => {
  beforeAll(async () => {
    await upDetached(cli);
  }, 60_000);

  it('put --ttl 2s: the key carries a lease, lease ttl shows it, and the key is gone after expiry', async () => {
    const put = await cli('put', 'svc/a', 'up', '--ttl', '2s', '--timeout', '20s');
    expect(put.err).toEqual([]);
    expect(put.code).toBe(ExitCode.Ok);
    const m = /^OK lease (\d+)$/.exec(put.out[0] ?? '');
    expect(m, put.out.join('\n')).not.toBeNull();
    const id = m![1]!;
    const got = await cli('get', 'svc/a', '--json', '--timeout', '20s');
    expect(JSON.parse(got.out[0]!)).toMatchObject({ key: 'svc/a', value: 'up', lease: Number(id) });
    const ttl = await cli('lease', 'ttl', id, '--keys', '--json', '--timeout', '20s');
    expect(ttl.code, ttl.err.join('\n')).toBe(ExitCode.Ok);
    const t = JSON.parse(ttl.out[0]!);
    expect(t).toMatchObject({ id: Number(id), grantedTtlSeconds: 2, keys: [{ key: 'svc/a' }] });
    expect(t.remainingMs).toBeLessThanOrEqual(2000);
    const list = await cli('lease', 'list', '--timeout', '20s');
    expect(list.out).toContain(`${id}\t2s`);
    // Expiry is the leader's: within the TTL plus a leader's retry, bounded generously here.
    await until('the leased key expires', 20_000, async () =>
      (await cli('get', 'svc/a', '--timeout', '20s')).code === ExitCode.Failure ? true : undefined,
    );
    const gone = await cli('lease', 'ttl', id, '--timeout', '20s');
    expect(gone.code).toBe(ExitCode.Failure);
    expect(gone.err.join('\n')).toContain('not found');
  });

  it('grant, put --lease, revoke; an unknown lease is refused', async () => {
    const grant = await cli('lease', 'grant', '30s', '--timeout', '20s');
    expect(grant.code, grant.err.join('\n')).toBe(ExitCode.Ok);
    const id = grant.out[0]!;
    expect(id).toMatch(/^\d+$/);
    expect((await cli('put', 'r/a', '1', '--lease', id, '--timeout', '20s')).code).toBe(ExitCode.Ok);
    // keel txn: a put naming the lease, taken only while the key has none (compare lease = 0).
    const file = join(tmp, 'txn.json');
    writeFileSync(
      file,
      JSON.stringify({
        compare: [{ key: 'r/t', lease: 0 }],
        success: [{ put: 'r/t', value: 'x', lease: Number(id) }],
      }),
    );
    const txn = await cli('txn', '--file', file, '--timeout', '20s');
    expect(txn.out[0], txn.err.join('\n')).toBe('SUCCESS');
    expect(JSON.parse((await cli('get', 'r/t', '--json')).out[0]!)).toMatchObject({ lease: Number(id) });
    expect((await cli('txn', '--file', file, '--timeout', '20s')).out[0]).toBe('FAILURE');
    const revoke = await cli('lease', 'revoke', id, '--timeout', '20s');
    expect(revoke.out).toEqual(['REVOKED']);
    expect((await cli('get', 'r/a', '--timeout', '20s')).code).toBe(ExitCode.Failure);
    expect((await cli('get', 'r/t', '--timeout', '20s')).code).toBe(ExitCode.Failure);
    const bad = await cli('put', 'r/b', '1', '--lease', id, '--timeout', '20s');
    expect(bad.code).toBe(ExitCode.Failure);
    expect(bad.err.join('\n')).toContain('[KEEL_CLIENT_LEASE_NOT_FOUND]');
    expect((await cli('lease', 'grant', '1s')).code).toBe(ExitCode.Usage);
  });
});
