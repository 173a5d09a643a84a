import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfState, NodeId } from '@keel/core';
import { openSnapshotStore } from '@keel/log';
import { claimDataDir } from './dataDir.js';
import { ConfigError } from './errors.js';
import { encodeMemberAddresses, type MemberAddresses } from './membership.js';

export interface SeedOptions {
  /** The member's data dir: absent or empty. */
  readonly dataDir: string;
  readonly id: NodeId;
  /** The NEW cluster's id (never the id of the cluster the snapshot came from). */
  readonly clusterId: string;
  /** Every member of the new cluster, all voters, with their addresses. */
  readonly members: readonly { readonly id: NodeId; readonly addresses: MemberAddresses }[];
  /** The state machine's snapshot bytes, and the index they cover in the cluster they came from. */
  readonly data: Uint8Array;
  readonly index: number;
}

/**
 * Prepares the data dir of one member of a NEW cluster whose state is a snapshot (the restore of a
 * backup, as etcdutl's `snapshot restore`). The dir gets what `startMember` reads and nothing else:
 * `member.json` (id and the new cluster id) and, in `snap/`, the snapshot at `index` with term 1
 * and a configuration of the new members. No WAL: at start the engine finds a log that does not
 * reach the snapshot and resets it to begin there (the path that finishes a crashed snapshot
 * install), so every member starts with commit = applied = `index`, the same state and the same
 * configuration, as if each had installed the snapshot from a leader.
 *
 * Term 1 because the hard state of a new member is term 0: the first election makes a term of 1
 * or more, so the entries a leader appends after the snapshot never carry a term below the
 * snapshot's (the log's terms must never decrease, or the up-to-date check of §5.4.1 breaks).
 */
export async function seedDataDir(o: SeedOptions): Promise<void> {
  if (!Number.isInteger(o.index) || o.index < 1)
    throw new ConfigError(`snapshot index ${o.index} is not >= 1`);
  if (!o.members.some((m) => m.id === o.id)) {
    throw new ConfigError(
      `member '${o.id}' is not one of the new members (${o.members.map((m) => m.id).join(', ')})`,
    );
  }
  let entries: string[] = [];
  try {
    entries = await readdir(o.dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (entries.length > 0) {
    throw new ConfigError(`data dir ${o.dataDir} is not empty; a restore writes only into new directories`);
  }
  await claimDataDir({ dataDir: o.dataDir, id: o.id, clusterId: o.clusterId });
  const conf: ConfState = {
    voters: o.members.map((m) => m.id),
    learners: [],
    addresses: new Map(o.members.map((m) => [m.id, encodeMemberAddresses(m.addresses)])),
  };
  const store = await openSnapshotStore(join(o.dataDir, 'snap'));
  await new Promise<void>((resolve, reject) =>
    store.save({ index: o.index, term: 1, conf }, [o.data], (err) => (err ? reject(err) : resolve())),
  );
  await store.close();
}
