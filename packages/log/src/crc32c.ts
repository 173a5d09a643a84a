/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum iSCSI, ext4 and many WALs
 * use. Slicing-by-8 table lookup: eight bytes per step.
 */
const POLY = 0x82f63b78;
const TABLES = buildTables();

function buildTables(): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[i]!;
    for (let s = 1; s < 8; s++) {
      c = (t[c & 0xff]! ^ (c >>> 8)) >>> 0;
      t[s * 256 + i] = c;
    }
  }
  return t;
}

/** CRC32C of `buf[start, end)`, continuing from `crc` (pass a previous result to chain). */
export function crc32c(buf: Uint8Array, crc = 0, start = 0, end = buf.length): number {
  const t = TABLES;
  let c = ~crc >>> 0;
  let i = start;
  while (end - i >= 8) {
    const lo = (c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))) >>> 0;
    c =
      t[7 * 256 + (lo & 0xff)]! ^
      t[6 * 256 + ((lo >>> 8) & 0xff)]! ^
      t[5 * 256 + ((lo >>> 16) & 0xff)]! ^
      t[4 * 256 + (lo >>> 24)]! ^
      t[3 * 256 + buf[i + 4]!]! ^
      t[2 * 256 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
    i += 8;
  }
  while (i < end) c = t[(c ^ buf[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
