import { renameSync, writeFileSync } from 'node:fs';
import type { WalLogStore } from '@keel/log';

/**
 * TEST ONLY (`keel node` sets it from `KEEL_TEST_WAL_SYNC_FILE=<path>`). `publish()` rewrites the file at `path` with the
 * WAL's `syncState()` (per segment: bytes known to be fsynced, whether its name is durable). The
 * member calls it after opening the log and after every fsync, before the append is acknowledged,
 * so the file never claims less than what any acknowledgement relied on. A fault injector that
 * SIGKILLs the member can then emulate power loss by cutting each segment back to that length.
 *
 * The file itself is not fsynced: the emulated power loss is of the member, the OS survives the
 * SIGKILL. It is replaced by rename, so a kill mid-write leaves the previous version.
 */
export function walSyncPublisher(wal: WalLogStore, path: string): () => void {
  const tmp = `${path}.tmp`;
  const publish = (): void => {
    writeFileSync(tmp, `${JSON.stringify({ pid: process.pid, segments: wal.syncState() })}\n`);
    renameSync(tmp, path);
  };
  publish();
  return publish;
}
