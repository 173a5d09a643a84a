import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pinoPretty from 'pino-pretty';

/**
 * A member log's pino JSON lines as pino-pretty prints them on a member's own terminal
 * (`time LEVEL (nodeId/component): msg` and the other fields on one line); any other line (the
 * launcher's start banners, a crash's stack) unchanged.
 */
export function logPrettifier(colorize: boolean): (line: string) => string {
  const format = pinoPretty.prettyFactory({
    colorize,
    ignore: 'pid,hostname',
    translateTime: 'SYS:HH:MM:ss.l',
    singleLine: true,
  });
  return (line) => {
    if (!line.startsWith('{')) return line;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      return line;
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return line;
    return format(o).replace(/\n$/, '');
  };
}

/** The last `count` lines of a file (all lines when count is null); [] if it does not exist. */
export function tailLines(path: string, count: number | null): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return count === null ? lines : lines.slice(Math.max(0, lines.length - count));
}

function size(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Prints lines appended to the file after `from` bytes until `stop` aborts (polling, because
 * fs.watch misses appends on some filesystems). A truncated file is read again from its start.
 */
export async function followFile(
  path: string,
  from: number,
  onLine: (line: string) => void,
  stop: AbortSignal,
): Promise<void> {
  let offset = from;
  let partial = '';
  while (!stop.aborted) {
    const end = size(path);
    if (end < offset) {
      offset = 0;
      partial = '';
    }
    if (end > offset) {
      const fd = openSync(path, 'r');
      try {
        const buf = Buffer.alloc(end - offset);
        const n = readSync(fd, buf, 0, buf.length, offset);
        offset += n;
        const parts = (partial + buf.subarray(0, n).toString('utf8')).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) onLine(line);
      } finally {
        closeSync(fd);
      }
    }
    await sleep(200, undefined, { signal: stop }).catch(() => undefined);
  }
}

export function fileSize(path: string): number {
  return size(path);
}
