import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, StartupError } from './errors.js';
import { makeDirectory } from './makeDirectory.js';

/**
 * Creates the data directory, proves it writable, and checks (or records) which member and
 * cluster it belongs to, so a member never starts on another member's WAL.
 */
export async function claimDataDir(config: {
  readonly dataDir: string;
  readonly id: string;
  readonly clusterId: string;
}): Promise<void> {
  const dir = config.dataDir;
  try {
    makeDirectory(dir);
    const probe = join(dir, `.write-test-${process.pid}`);
    const fh = await open(probe, 'w');
    await fh.writeFile('ok');
    await fh.sync();
    await fh.close();
    await rm(probe, { force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new StartupError('KEEL_DATA_DIR', `data dir ${dir} is not writable (${code})`);
  }
  const idFile = join(dir, 'member.json');
  let existing: { id?: unknown; clusterId?: unknown } | null = null;
  try {
    existing = JSON.parse(await readFile(idFile, 'utf8')) as { id?: unknown; clusterId?: unknown };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StartupError(
        'KEEL_DATA_DIR',
        `${idFile} is unreadable or corrupt; it names the member this data dir belongs to`,
      );
    }
  }
  if (existing !== null) {
    if (existing.id !== config.id || existing.clusterId !== config.clusterId) {
      throw new ConfigError(
        `data dir ${dir} belongs to member '${String(existing.id)}' of cluster '${String(existing.clusterId)}', not '${config.id}' of '${config.clusterId}'`,
      );
    }
    return;
  }
  const tmp = `${idFile}.tmp`;
  await writeFile(
    tmp,
    `${JSON.stringify({ id: config.id, clusterId: config.clusterId, createdAt: new Date().toISOString() })}\n`,
  );
  const fh = await open(tmp, 'r');
  await fh.sync();
  await fh.close();
  await rename(tmp, idFile);
  const d = await open(dir, 'r');
  await d.sync();
  await d.close();
}
