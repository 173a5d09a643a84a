import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ClusterFileError,
  clusterFilePath,
  parseClusterFile,
  readClusterFile,
  withMember,
  writeClusterFile,
} from '../src/cluster/ClusterFile.js';
import { planCluster } from '../src/cluster/launcher.js';
import { tempDir } from './helpers.js';

const tmp = tempDir('file');
afterAll(() => tmp.remove());

const plan = (dir: string, size = 3) =>
  planCluster(
    {
      dir,
      host: '127.0.0.1',
      basePort: 7100,
      size,
      program: '/repo/apps/node/dist/main.js',
      nodeBinary: '/usr/bin/node',
    },
    new Date('2026-01-02T03:04:05.000Z'),
  );

describe('cluster file', () => {
  it('plans members n1..nN with the documented ports, data dirs, logs and command line', () => {
    const file = plan('/c');
    expect(file.members.map((m) => m.id)).toEqual(['n1', 'n2', 'n3']);
    const n2 = file.members[1];
    expect(n2?.ports).toEqual({ peer: 7102, client: 7202, http: 7302 });
    expect(n2?.dataDir).toBe('/c/n2');
    expect(n2?.logFile).toBe('/c/n2/member.log');
    expect(n2?.state).toBe('stopped');
    expect(n2?.command).toEqual([
      '/usr/bin/node',
      '/repo/apps/node/dist/main.js',
      '--id',
      'n2',
      '--peers',
      'n1=127.0.0.1:7101,n2=127.0.0.1:7102,n3=127.0.0.1:7103',
      '--clients',
      'n1=127.0.0.1:7201,n2=127.0.0.1:7202,n3=127.0.0.1:7203',
      '--http',
      '127.0.0.1:7302',
      '--data-dir',
      '/c/n2',
      '--log-format',
      'json',
      '--fault-injection',
    ]);
  });

  it('survives a write and a read unchanged', () => {
    const dir = join(tmp.path, 'roundtrip');
    const file = withMember(plan(dir, 5), 'n4', {
      pid: 4242,
      pidStartTime: 123456,
      state: 'paused',
      startedAt: '2026-01-02T03:04:06.000Z',
    });
    writeClusterFile(file);
    expect(readClusterFile(dir)).toEqual(file);
  });

  it('reads as null when there is no file', () => {
    expect(readClusterFile(join(tmp.path, 'nothing-here'))).toBeNull();
  });

  it('names the file and the bad field when the file is damaged', () => {
    const dir = join(tmp.path, 'damaged');
    mkdirSync(dir, { recursive: true });
    writeFileSync(clusterFilePath(dir), '{"version":1,"members":');
    expect(() => readClusterFile(dir)).toThrow(ClusterFileError);
    expect(() => readClusterFile(dir)).toThrow(`${clusterFilePath(dir)} is damaged`);
  });

  it('rejects a wrong version, a bad state and duplicate ids', () => {
    const good = JSON.parse(JSON.stringify(plan('/c'))) as Record<string, unknown> & {
      members: Record<string, unknown>[];
    };
    expect(() => parseClusterFile({ ...good, version: 2 })).toThrow('version 2 is not 1');
    const badState = { ...good, members: [{ ...good.members[0], state: 'dancing' }] };
    expect(() => parseClusterFile(badState)).toThrow(
      "members[0].state 'dancing' is not one of running, paused, stopped",
    );
    const dup = { ...good, members: [good.members[0], good.members[0]] };
    expect(() => parseClusterFile(dup)).toThrow('member ids are not unique');
    expect(() => parseClusterFile({ ...good, members: [{ ...good.members[0], id: '__proto__' }] })).toThrow(
      'members[0].id: member id "__proto__" is invalid',
    );
    expect(() => parseClusterFile({ ...good, members: [{ ...good.members[0], pid: -1 }] })).toThrow(
      'members[0].pid',
    );
  });
});
