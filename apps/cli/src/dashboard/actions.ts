import type { ActionResult, DashboardActions } from '@keel/dashboard';
import { runClusterCommand } from '../commands/cluster.js';
import { runLeaderCommand } from '../commands/leader.js';
import { ExitCode, type Io } from '../io.js';

/**
 * The dashboard's buttons, each the very command a terminal would run (`keel cluster kill n2`,
 * `keel leader move n3`, `keel cluster add-node`, ...), run in this process with its output
 * captured as the action's message: one implementation of each operation, not two.
 */
export function cliActions(dir: string, io: Io): DashboardActions {
  const run = async (
    command: (argv: readonly string[], io: Io) => Promise<ExitCode>,
    argv: readonly string[],
  ): Promise<ActionResult> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await command([...argv, '--dir', dir], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      isTTY: false,
      ...(io.cwd !== undefined ? { cwd: io.cwd } : {}),
      ...(io.env !== undefined ? { env: io.env } : {}),
      ...(io.onSpawn !== undefined ? { onSpawn: io.onSpawn } : {}),
    });
    const ok = code === ExitCode.Ok;
    const lines = ok ? out : err.length > 0 ? err : out;
    return { ok, message: lines.join(' ').replace(/\s+/g, ' ').trim() || `exit code ${code}` };
  };
  const member = (sub: string) => (id: string) => run(runClusterCommand, [sub, id]);
  return {
    kill: member('kill'),
    stop: member('stop'),
    restart: member('restart'),
    pause: member('pause'),
    resume: member('resume'),
    isolate: member('isolate'),
    heal: member('heal'),
    transferLeader: (id) => run(runLeaderCommand, ['move', id]),
    addMember: (learner) => run(runClusterCommand, ['add-node', ...(learner ? ['--learner'] : [])]),
    removeMember: member('remove-node'),
  };
}
