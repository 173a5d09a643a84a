import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Creates a directory and its missing parents, one `mkdir` at a time, and fails with the first
 * error. Node's own `mkdir(dir, { recursive: true })` is not safe here: where mkdir answers ENOENT
 * although the parent exists (`/proc/nope`: procfs refuses new entries), it retries forever — the
 * sync version at 100 % CPU with the event loop blocked, so not even SIGTERM gets through. This
 * walks up at most once per path component, so it ends whatever the file system says.
 */
export function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); ; ) {
    let isDir: boolean;
    try {
      isDir = statSync(d).isDirectory();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const parent = dirname(d);
      if (parent === d) break;
      missing.push(d);
      d = parent;
      continue;
    }
    if (!isDir) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${d}'`), { code: 'ENOTDIR' });
    break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      // Created meanwhile by someone else (another member starting in the same cluster dir).
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
