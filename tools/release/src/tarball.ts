import { gunzipSync } from 'node:zlib';

/** The files of an npm tarball (`package/...` prefix removed), read in memory. */
export interface Tarball {
  readonly files: ReadonlyMap<string, Uint8Array>;
  text(path: string): string | null;
}

const BLOCK = 512;

function field(header: Uint8Array, offset: number, length: number): string {
  const end = header.indexOf(0, offset);
  const stop = end === -1 || end > offset + length ? offset + length : end;
  return Buffer.from(header.subarray(offset, stop)).toString('utf8');
}

/** Reads a gzipped ustar archive as npm and pnpm write it (regular files only; no pax extensions needed). */
export function readTarball(gzipped: Uint8Array): Tarball {
  const data = gunzipSync(gzipped);
  const files = new Map<string, Uint8Array>();
  let at = 0;
  while (at + BLOCK <= data.length) {
    const header = data.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    const name = field(header, 0, 100);
    const prefix = field(header, 345, 155);
    const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    const path = prefix === '' ? name : `${prefix}/${name}`;
    at += BLOCK;
    if (type === '0' || type === '\0')
      files.set(path.replace(/^package\//, ''), data.subarray(at, at + size));
    at += Math.ceil(size / BLOCK) * BLOCK;
  }
  return {
    files,
    text: (path) => {
      const bytes = files.get(path);
      return bytes === undefined ? null : Buffer.from(bytes).toString('utf8');
    },
  };
}
