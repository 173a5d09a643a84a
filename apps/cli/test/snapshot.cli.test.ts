import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KvStateMachine } from '@keel/kv';
import { afterAll, describe, expect, it } from 'vitest';
import { readClusterFile } from '../src/cluster/ClusterFile.js';
import { encodeBackup } from '../src/commands/snapshot/backupFile.js';
import { ExitCode, runCli } from '../src/index.js';
import { capture, tempDir } from './helpers.js';

const tmp = tempDir('snapshot-cli');
afterAll(() => tmp.remove());

async function cli(...argv: string[]) {
  const c = capture({ cwd: tmp.path });
  const code = await runCli(argv, c.io);
  return { code, out: c.out, err: c.err };
}

/** A valid backup of an empty store, taken at index 7 of cluster `old`. */
function writeBackup(name: string): string {
  const data = new KvStateMachine().snapshotBytes();
  const header = {
    format: 'keel-kv' as const,
    clusterId: 'old',
    member: 'n1',
    index: 7,
    term: 3,
    voters: ['n1'],
    revision: 0,
    keys: 0,
    bytes: data.length,
    createdAt: '2026-12-03T14:00:00.000Z',
  };
  const path = join(tmp.path, name);
  writeFileSync(path, Buffer.concat(encodeBackup(header, [data])));
  return path;
}

describe('keel snapshot without a cluster', () => {
  it('usage errors exit 2 with one line', async () => {
    for (const argv of [
      ['snapshot'],
      ['snapshot', 'save'],
      ['snapshot', 'copy', 'f'],
      ['snapshot', 'status', 'a', 'b'],
      ['snapshot', 'status', 'f', '-n', '3'],
      ['snapshot', 'restore', 'f', '--endpoint', '127.0.0.1:1'],
      ['snapshot', 'restore', 'f'],
      ['snapshot', 'restore', 'f', '--dir', 'x', '-n', '10'],
      ['snapshot', 'save', 'f', '--timeout', '0'],
    ]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(ExitCode.Usage);
      if (argv.length > 1) expect(r.err, argv.join(' ')).toHaveLength(1);
    }
  });

  it('save with no cluster running exits 4; status of a missing file exits 1', async () => {
    const save = await cli('snapshot', 'save', 'b.kbak', '--dir', join(tmp.path, 'nothing'));
    expect(save.code).toBe(ExitCode.NoCluster);
    expect(save.err[0]).toMatch(/^keel snapshot save: no cluster is running in /);
    const missing = await cli('snapshot', 'status', 'missing.kbak');
    expect(missing.code).toBe(ExitCode.Failure);
    expect(missing.err).toEqual([
      'keel snapshot status: missing.kbak is not a usable backup: cannot read it (ENOENT)',
    ]);
  });

  it('restore writes a new cluster (cluster file, member.json, one snapshot per member) and refuses a non-empty dir', async () => {
    writeBackup('empty.kbak');
    const dir = join(tmp.path, 'restored');
    const r = await cli(
      'snapshot',
      'restore',
      'empty.kbak',
      '--dir',
      dir,
      '-n',
      '3',
      '--base-port',
      '7400',
      '--json',
    );
    expect(r.err).toEqual([]);
    expect(r.code).toBe(ExitCode.Ok);
    const out = JSON.parse(r.out.join('')) as { clusterId: string; members: string[]; index: number };
    expect(out).toMatchObject({
      ok: true,
      members: ['n1', 'n2', 'n3'],
      index: 7,
      from: { clusterId: 'old' },
    });
    expect(out.clusterId).toMatch(/^local-[0-9a-f]{8}$/);
    const file = readClusterFile(dir)!;
    expect(file.basePort).toBe(7400);
    expect(file.members.every((m) => m.state === 'stopped' && m.command.includes(out.clusterId))).toBe(true);
    for (const id of ['n1', 'n2', 'n3']) {
      const member = JSON.parse(readFileSync(join(dir, id, 'member.json'), 'utf8')) as Record<string, string>;
      expect(member).toMatchObject({ id, clusterId: out.clusterId });
      // The snapshot at the backup's index with term 1; no WAL until the member first starts.
      expect(readdirSync(join(dir, id, 'snap'))).toEqual([`snap-${'7'.padStart(20, '0')}-1.snap`]);
      expect(existsSync(join(dir, id, 'wal'))).toBe(false);
    }

    const nonEmpty = join(tmp.path, 'busy');
    mkdirSync(nonEmpty);
    writeFileSync(join(nonEmpty, 'keep'), 'x');
    const refused = await cli('snapshot', 'restore', 'empty.kbak', '--dir', nonEmpty);
    expect(refused.code).toBe(ExitCode.Failure);
    expect(refused.err).toEqual([
      `keel snapshot restore: ${nonEmpty} is not empty; restore into a new directory`,
    ]);
    expect(readdirSync(nonEmpty)).toEqual(['keep']);
  });
});
