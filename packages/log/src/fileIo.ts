import fs from 'node:fs';

// Node's callback API on raw descriptors: the cheapest path to write(2)/fdatasync(2) off the loop.
export const write = (fd: number, buf: Buffer, off: number, len: number, pos: number) =>
  new Promise<number>((res, rej) => fs.write(fd, buf, off, len, pos, (e, n) => (e ? rej(e) : res(n))));
export const fdatasync = (fd: number) =>
  new Promise<void>((res, rej) => fs.fdatasync(fd, (e) => (e ? rej(e) : res())));
export const fsync = (fd: number) =>
  new Promise<void>((res, rej) => fs.fsync(fd, (e) => (e ? rej(e) : res())));
export const open = (path: string, flags: string | number) =>
  new Promise<number>((res, rej) => fs.open(path, flags, (e, fd) => (e ? rej(e) : res(fd))));
export const close = (fd: number) => new Promise<void>((res) => fs.close(fd, () => res()));
export const fstatSize = (fd: number) =>
  new Promise<number>((res, rej) => fs.fstat(fd, (e, st) => (e ? rej(e) : res(st.size))));
export const rename = (a: string, b: string) =>
  new Promise<void>((res, rej) => fs.rename(a, b, (e) => (e ? rej(e) : res())));
export const unlink = (p: string) =>
  new Promise<void>((res, rej) => fs.unlink(p, (e) => (e ? rej(e) : res())));

/** write(2) until all `len` bytes are in the file (a short write is continued, not an error). */
export async function writeAll(fd: number, buf: Buffer, len: number, pos: number): Promise<void> {
  let done = 0;
  while (done < len) {
    const n = await write(fd, buf, done, len - done, pos + done);
    if (n <= 0) throw new Error(`write returned ${n}`);
    done += n;
  }
}

export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** O_DSYNC where the platform has it (Linux, macOS), else null (Windows: write + fdatasync). */
export const O_DSYNC: number | null = fs.constants.O_DSYNC ?? null;

/**
 * Flags opening a segment file for writing: `'r+'` (an existing file) or `'wx+'` (a new one), with
 * O_DSYNC when `dsync`: every write(2) then returns only once its data (and the metadata needed to
 * read it back, such as a grown size) is on stable storage, as after an fdatasync.
 */
export function segmentFlags(mode: 'r+' | 'wx+', dsync: boolean): string | number {
  if (!dsync || O_DSYNC === null) return mode;
  const c = fs.constants;
  return mode === 'r+' ? c.O_RDWR | O_DSYNC : c.O_RDWR | c.O_CREAT | c.O_EXCL | O_DSYNC;
}
