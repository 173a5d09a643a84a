/**
 * Disk full for real: the WAL on a 2 MiB tmpfs fills it. The append that runs out of space gets
 * KEEL_WAL_DISK_FULL, the store stops (later appends get the same error, reads keep working), and
 * once the files are copied to a bigger disk every entry acknowledged before is there, intact.
 * (The mocked ENOSPC test in wal.test.ts covers hosts where mounting is not allowed.)
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '@keel/core';
import { afterAll, describe, expect, it } from 'vitest';
import { openLog, type WalError, type WalLogStore, type WalOptions } from '../src/index.js';
import { mkEntries, payload, sameBytes, tempDir } from './helpers.js';

/** Mounts a 2 MiB tmpfs, or says why it cannot (not root, no CAP_SYS_ADMIN, no mount binary). */
function mountTmpfs(): { dir: string; reason: null } | { dir: null; reason: string } {
  const dir = mkdtempSync(join(tmpdir(), 'keel-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
    return { dir, reason: null };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return { dir: null, reason: stderr || (err as Error).message };
  }
}

const mount = mountTmpfs();
if (mount.dir === null) {
  console.warn(`diskfull.test.ts: skipped, cannot mount a tmpfs here (${mount.reason})`);
}

afterAll(() => {
  if (mount.dir === null) return;
  execFileSync('umount', [mount.dir]);
  rmSync(mount.dir, { recursive: true, force: true });
});

function append(log: WalLogStore, es: Entry[]): Promise<Error | null> {
  return new Promise((res) => log.append(es, null, (e) => res(e)));
}

describe.skipIf(mount.dir === null)('disk full on a real (tmpfs) file system', () => {
  const cases: Array<[string, WalOptions]> = [
    ['preallocated segments', { segmentSize: 256 * 1024 }],
    ['no preallocation', { segmentSize: 256 * 1024, preallocate: false }],
  ];
  for (const [name, options] of cases) {
    it(`${name}: ENOSPC stops the store and loses nothing acknowledged`, async () => {
      const dir = join(mount.dir!, name.replace(/\W+/g, '-'));
      const log = await openLog(dir, options);
      let acked = 0;
      let failure: Error | null = null;
      // 2 MiB of 500-byte entries is ~4,000: bounded well above that.
      for (let next = 1; next < 20_000 && failure === null; next += 20) {
        const err = await append(log, mkEntries(next, next + 20, 1, 500));
        if (err === null) acked = next + 19;
        else failure = err;
      }
      expect(failure, 'the disk never filled').not.toBeNull();
      expect((failure as WalError).code).toBe('KEEL_WAL_DISK_FULL');
      expect(failure!.message).toMatch(/disk is full/);
      expect(log.failure?.code).toBe('KEEL_WAL_DISK_FULL');
      expect(acked).toBeGreaterThan(100);
      // Stopped: no retry, even for a tiny append; reads still work.
      const again = await append(log, mkEntries(log.lastIndex() + 1, log.lastIndex() + 2, 1, 1));
      expect((again as WalError | null)?.code).toBe('KEEL_WAL_DISK_FULL');
      expect(sameBytes(log.entries(1, 2, 1 << 20)[0]!.data, payload(1, 1, 500))).toBe(true);
      await log.close();

      // The operator moves the directory to a bigger disk and starts again.
      const bigger = await tempDir('keel-full-copy-');
      try {
        cpSync(dir, bigger.dir, { recursive: true });
        const back = await openLog(bigger.dir, options);
        try {
          expect(back.lastIndex()).toBeGreaterThanOrEqual(acked);
          const got = back.entries(1, acked + 1, Number.POSITIVE_INFINITY);
          expect(got).toHaveLength(acked);
          for (const e of got) {
            expect(e.term).toBe(1);
            expect(sameBytes(e.data, payload(e.index, 1, 500)), `entry ${e.index}`).toBe(true);
          }
          // And it works there.
          const err = await append(back, mkEntries(back.lastIndex() + 1, back.lastIndex() + 50, 1, 500));
          expect(err).toBeNull();
        } finally {
          await back.close();
        }
      } finally {
        await bigger.cleanup();
      }
      rmSync(dir, { recursive: true, force: true });
    });
  }
});
