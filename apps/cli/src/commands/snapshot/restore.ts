import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { seedDataDir } from '@keel/node';
import { writeClusterFile } from '../../cluster/ClusterFile.js';
import { planCluster } from '../../cluster/launcher.js';
import { memberProgram } from '../../cluster/paths.js';
import { basePortProblem, CLUSTER_HOST, DEFAULT_BASE_PORT } from '../../cluster/ports.js';
import { ExitCode } from '../../io.js';
import { type SnapshotArgs, SnapshotCommandError } from './options.js';
import { readBackup } from './verify.js';

/** The WAL segment size `keel cluster up` gives a local cluster's members. */
const LOCAL_WAL_SEGMENT_SIZE = '4MiB';

function isEmptyOrMissing(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw new SnapshotCommandError(`cannot use --dir ${dir}: ${(err as Error).message}`);
  }
}

/**
 * `keel snapshot restore <file> --dir <new dir> [-n 3]`: a NEW local cluster whose state is the
 * backup (as etcdutl's `snapshot restore`): a new cluster id, members n1..nN on the usual ports,
 * each data dir seeded with the snapshot (@keel/server's seedDataDir), and the cluster file, so
 * `keel cluster up --dir <dir>` starts it. The file is verified first; a non-empty dir is refused.
 */
export async function restore(a: SnapshotArgs): Promise<ExitCode> {
  if (a.dir === null) {
    throw new SnapshotCommandError('restore needs --dir <new cluster directory>', ExitCode.Usage);
  }
  const dir = a.dir;
  const size = a.members ?? 3;
  const basePort = a.basePort ?? DEFAULT_BASE_PORT;
  const portProblem = basePortProblem(basePort, size);
  if (portProblem !== null) throw new SnapshotCommandError(portProblem, ExitCode.Usage);
  const backup = await readBackup(a.file);
  if (!isEmptyOrMissing(dir)) {
    throw new SnapshotCommandError(`${dir} is not empty; restore into a new directory`);
  }
  const clusterId = `local-${randomBytes(4).toString('hex')}`;
  const plan = planCluster({
    dir,
    host: CLUSTER_HOST,
    basePort,
    size,
    program: memberProgram(a.io.env ?? process.env),
    nodeBinary: process.execPath,
    clusterId,
    extraArgs: ['--wal-segment-size', LOCAL_WAL_SEGMENT_SIZE],
  });
  const members = plan.members.map((m) => ({
    id: m.id,
    addresses: {
      peer: `${plan.host}:${m.ports.peer}`,
      client: `${plan.host}:${m.ports.client}`,
      http: `${plan.host}:${m.ports.http}`,
    },
  }));
  for (const m of plan.members) {
    try {
      await seedDataDir({
        dataDir: m.dataDir,
        id: m.id,
        clusterId,
        members,
        data: backup.data,
        index: backup.header.index,
      });
    } catch (err) {
      throw new SnapshotCommandError(
        `cannot prepare ${m.id}'s data dir ${m.dataDir}: ${(err as Error).message}; delete ${dir} and run restore again`,
      );
    }
  }
  // Last: a cluster file names a cluster that is ready to start.
  writeClusterFile(plan);
  const h = backup.header;
  if (a.json) {
    a.io.out(
      JSON.stringify({
        ok: true,
        dir,
        clusterId,
        members: plan.members.map((m) => m.id),
        basePort,
        index: h.index,
        revision: h.revision,
        keys: h.keys,
        from: { clusterId: h.clusterId, member: h.member },
      }),
    );
  } else {
    a.io.out(
      `restored ${a.shown} (index ${h.index}, revision ${h.revision}, ${h.keys} keys) into ${dir}: ` +
        `a new cluster ${clusterId} of ${size} (${plan.members.map((m) => m.id).join(', ')})`,
    );
    a.io.out(`start it with: keel cluster up --dir ${dir}`);
  }
  return ExitCode.Ok;
}
