import { ExitCode } from '../../io.js';
import { humanBytes, type SnapshotArgs } from './options.js';
import { readBackup } from './verify.js';

/** `keel snapshot status <file>`: verified end to end, then what it holds (a table, or --json). */
export async function status(a: SnapshotArgs): Promise<ExitCode> {
  const { header: h, fileBytes } = await readBackup(a.file);
  if (a.json) {
    a.io.out(JSON.stringify({ ok: true, file: a.file, checksum: 'ok', fileBytes, ...h }));
    return ExitCode.Ok;
  }
  const rows: [string, string][] = [
    ['file', a.shown],
    ['checksum', 'ok (SHA-256 of the file, CRC-32 of the store snapshot)'],
    ['cluster', `${h.clusterId} (taken on ${h.member})`],
    ['index', String(h.index)],
    ['term', String(h.term)],
    ['revision', String(h.revision)],
    ['keys', String(h.keys)],
    ['size', `${humanBytes(h.bytes)} of data, ${humanBytes(fileBytes)} on disk`],
    ['voters', h.voters.join(', ')],
    ['created', h.createdAt],
  ];
  for (const [k, v] of rows) a.io.out(`${k.padEnd(9)} ${v}`);
  return ExitCode.Ok;
}
