import type { ClusterSource, MemberRef } from '@keel/dashboard';
import { MemberState, readClusterFile } from '../cluster/ClusterFile.js';
import { checkOwnership } from '../cluster/ownership.js';

/**
 * The dashboard's view of a local cluster: its cluster file, read again on every poll (so
 * commands from other terminals show at once), with each member's process checked the way
 * `keel cluster status` checks it (a PID that is no longer ours is `down`).
 */
export function clusterSource(dir: string): ClusterSource {
  let last: readonly MemberRef[] = [];
  return {
    name: dir,
    members: () => {
      let file: ReturnType<typeof readClusterFile>;
      try {
        file = readClusterFile(dir);
      } catch {
        return last; // a file being rewritten by another command: keep the previous view
      }
      if (file === null) {
        last = [];
        return last;
      }
      last = file.members.map((m): MemberRef => {
        const own = m.state === MemberState.Stopped ? null : checkOwnership(m).kind;
        return {
          id: m.id,
          http: `${file.host}:${m.ports.http}`,
          client: `${file.host}:${m.ports.client}`,
          pid: m.pid,
          state:
            own === null
              ? 'stopped'
              : own !== 'ours'
                ? 'down'
                : m.state === MemberState.Paused
                  ? 'paused'
                  : 'running',
        };
      });
      return last;
    },
  };
}
