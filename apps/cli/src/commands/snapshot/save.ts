import { resolve } from 'node:path';
import { ExitCode } from '../../io.js';
import { adminAccess } from '../../options/adminEndpoints.js';
import { findLeader, MembersError } from '../members.js';
import { type BackupHeader, encodeBackup } from './backupFile.js';
import { DownloadError, downloadSnapshot } from './download.js';
import { humanBytes, type SnapshotArgs, SnapshotCommandError } from './options.js';
import { inspectKvSnapshot } from './verify.js';
import { writeAtomically } from './writeAtomically.js';

/** Redraws of the progress line at most this often. */
const PROGRESS_EVERY_MS = 200;

/**
 * `keel snapshot save <file>`: the leader (of `--admin-endpoints`, or of the cluster file's members) snapshots the state it has applied now
 * and streams it; the bytes are checked as a member would restore them, then written with a header
 * and a SHA-256, atomically. Progress on a terminal.
 */
export async function save(a: SnapshotArgs): Promise<ExitCode> {
  let endpoint: string;
  const access = adminAccess(a.admin, a.io);
  if (!access.ok) throw new SnapshotCommandError(access.message, access.exitCode);
  const endpoints = access.endpoints;
  try {
    endpoint =
      endpoints.length === 1
        ? endpoints[0]!
        : (await findLeader(endpoints, performance.now() + a.timeoutMs)).http;
  } catch (err) {
    if (err instanceof MembersError) throw new SnapshotCommandError(err.message, err.exitCode);
    throw err;
  }
  const tty = a.io.isTTY === true && a.io.write !== undefined && !a.json;
  let drawn = 0;
  const draw = (received: number, total: number, final = false): void => {
    if (!tty) return;
    const now = performance.now();
    if (!final && now - drawn < PROGRESS_EVERY_MS) return;
    drawn = now;
    const pct = total === 0 ? 100 : Math.floor((received / total) * 100);
    a.io.write!(
      `\r\x1b[2Kdownloading from ${endpoint}: ${humanBytes(received)} of ${humanBytes(total)} (${pct}%)${final ? '\n' : ''}`,
    );
  };
  // The member first catches up and snapshots its store, which takes a while for a large one.
  if (tty) a.io.write!(`${endpoint} is taking a snapshot...`);
  let got: Awaited<ReturnType<typeof downloadSnapshot>>;
  try {
    got = await downloadSnapshot(endpoint, Math.max(a.timeoutMs, 30_000), draw);
  } catch (err) {
    if (tty) a.io.write!('\n');
    if (err instanceof DownloadError) throw new SnapshotCommandError(err.message);
    throw err;
  }
  draw(got.bytes, got.bytes, true);
  const data = got.chunks.length === 1 ? got.chunks[0]! : Buffer.concat(got.chunks);
  // Checked before it is written: a file `save` reports as saved is one `restore` accepts.
  const { revision, keys } = inspectKvSnapshot(data);
  const header: BackupHeader = {
    format: 'keel-kv',
    clusterId: got.clusterId,
    member: got.member,
    index: got.index,
    term: got.term,
    voters: got.voters,
    revision,
    keys,
    bytes: data.length,
    createdAt: new Date().toISOString(),
  };
  const file = resolve(a.file);
  try {
    await writeAtomically(file, encodeBackup(header, [data]));
  } catch (err) {
    throw new SnapshotCommandError(`cannot write ${file}: ${(err as Error).message}`);
  }
  if (a.json) a.io.out(JSON.stringify({ ok: true, file, ...header }));
  else {
    a.io.out(
      `saved ${a.shown}: index ${header.index} (term ${header.term}), revision ${revision}, ${keys} keys, ${humanBytes(data.length)} from ${got.member} of cluster ${got.clusterId}`,
    );
  }
  return ExitCode.Ok;
}
