import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

function value(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  if (typeof v === 'object' && v !== null && 'message' in v)
    return JSON.stringify((v as { message: unknown }).message);
  return JSON.stringify(v);
}

/** A pino JSON line as `time LEVEL msg key=value ...`; any other line unchanged. */
export function prettyLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const when = typeof o.time === 'number' || typeof o.time === 'string' ? new Date(o.time) : null;
  const time = when !== null && !Number.isNaN(when.getTime()) ? when.toISOString().slice(11, 23) : '';
  const level =
    typeof o.level === 'number'
      ? (LEVELS[o.level] ?? String(o.level))
      : typeof o.level === 'string'
        ? o.level.toUpperCase()
        : '';
  const rest = Object.entries(o)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ');
  return [time, level.padEnd(5), typeof o.msg === 'string' ? o.msg : '', rest]
    .filter((s) => s !== '')
    .join(' ');
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
