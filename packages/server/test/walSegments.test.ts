import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Counter, counterService, freePort } from '../examples/counter.js';
import { ConfigError, startMember } from '../src/index.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function oneMember(walSegmentBytes?: number) {
  const dataDir = await mkdtemp(join(tmpdir(), 'keel-wal-size-'));
  dirs.push(dataDir);
  const peers = [{ id: 'a', host: '127.0.0.1', port: await freePort() }];
  const clients = [{ id: 'a', host: '127.0.0.1', port: await freePort() }];
  const member = await startMember({
    id: 'a',
    dataDir,
    peers,
    clients,
    stateMachine: new Counter(),
    service: counterService,
    ...(walSegmentBytes === undefined ? {} : { walSegmentBytes }),
  });
  return { member, dataDir };
}

describe('WAL segment size (walSegmentBytes)', () => {
  it('sizes every segment file as asked, so a laptop cluster stays small on disk', async () => {
    const { member, dataDir } = await oneMember(256 * 1024);
    try {
      const deadline = performance.now() + 10_000;
      while (member.status().role !== 'leader' && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(member.status().role).toBe('leader');
      const wal = join(dataDir, 'wal');
      const segments = (await readdir(wal)).filter((f) => f.endsWith('.wal'));
      expect(segments.length).toBeGreaterThan(0);
      for (const f of segments) expect((await stat(join(wal, f))).size).toBeLessThanOrEqual(256 * 1024);
    } finally {
      await member.close();
    }
  }, 30_000);

  it('refuses a size out of range with a ConfigError naming the bounds', async () => {
    await expect(oneMember(1024)).rejects.toThrow(ConfigError);
    await expect(oneMember(1024)).rejects.toThrow(/between 64 KiB and 1 GiB, got 1024 bytes/);
  });
});
