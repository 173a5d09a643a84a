import { readFile } from 'node:fs/promises';
import { KvStateMachine, SnapshotError } from '@keel/kv';
import { BackupFileError, type BackupHeader, decodeBackup } from './backupFile.js';

/** What a verified backup holds. */
export interface VerifiedBackup {
  readonly header: BackupHeader;
  readonly data: Uint8Array;
  /** The file's size in bytes. */
  readonly fileBytes: number;
}

/**
 * Decodes a KV snapshot as a member would restore it (its CRC-32, then every rule of the store);
 * answers its revision and key count, or throws BackupFileError.
 */
export function inspectKvSnapshot(data: Uint8Array): { revision: number; keys: number } {
  const kv = new KvStateMachine();
  try {
    kv.restore(data);
  } catch (err) {
    if (err instanceof SnapshotError)
      throw new BackupFileError(`the KV snapshot inside is damaged: ${err.message}`);
    throw err;
  }
  return { revision: kv.revision, keys: kv.size };
}

/** Reads and checks a backup file end to end: SHA-256, header, and the store's own checks. */
export async function readBackup(path: string): Promise<VerifiedBackup> {
  let file: Buffer;
  try {
    file = await readFile(path);
  } catch (err) {
    throw new BackupFileError(
      `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  const { header, data } = decodeBackup(file);
  const found = inspectKvSnapshot(data);
  if (found.revision !== header.revision || found.keys !== header.keys) {
    throw new BackupFileError(
      `the header says revision ${header.revision} with ${header.keys} keys, the data holds revision ${found.revision} with ${found.keys}`,
    );
  }
  return { header, data, fileBytes: file.length };
}
