import { MemberState, readClusterFile } from '../cluster/ClusterFile.js';
import { ExitCode } from '../io.js';
import { MembersError } from './members.js';

const ADDRESS = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

/**
 * The members' HTTP admin endpoints that `keel snapshot save` and `keel leader move` ask:
 * `--endpoint`, or every member of the cluster file in `dir`. Throws MembersError (exit 2 for a
 * bad address, 4 when no cluster runs there).
 */
export function adminTargets(dir: string, endpoint: string | undefined): string[] {
  if (endpoint !== undefined) {
    if (!ADDRESS.test(endpoint))
      throw new MembersError(`--endpoint must be host:port, not '${endpoint}'`, ExitCode.Usage);
    return [endpoint];
  }
  const file = readClusterFile(dir);
  if (file === null || file.members.every((m) => m.state === MemberState.Stopped)) {
    throw new MembersError(
      `no cluster is running in ${dir} (start one with 'keel cluster up', or pass --endpoint)`,
      ExitCode.NoCluster,
    );
  }
  return file.members.map((m) => `${file.host}:${m.ports.http}`);
}
