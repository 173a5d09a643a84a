import { busyPorts, killPid } from '@keel/ops';
import { MemberState } from '../../cluster/ClusterFile.js';
import { describeStop, startMember, stopMember } from '../../cluster/launcher.js';
import { ExitCode } from '../../io.js';
import {
  CommandError,
  type Context,
  emit,
  graceMs,
  isLive,
  liveMember,
  memberResult,
  requireFile,
  requireMember,
  updateMember,
} from './context.js';

export async function kill(ctx: Context): Promise<ExitCode> {
  const { m } = liveMember(ctx);
  const outcome = await stopMember(m, 0, true);
  if (outcome.kind === 'stuck') throw new CommandError(describeStop(m.id, m.pid, outcome), ExitCode.Failure);
  updateMember(ctx.dir, m.id, { state: MemberState.Stopped });
  return memberResult(
    ctx,
    m,
    'killed',
    `${m.id} (pid ${m.pid}) killed with SIGKILL; start it again with '${ctx.hint(`cluster restart ${m.id}`)}'`,
  );
}

export async function stop(ctx: Context): Promise<ExitCode> {
  const grace = graceMs(ctx); // a usage mistake stops the command before anything is touched
  const { m } = liveMember(ctx);
  const outcome = await stopMember(m, grace);
  if (outcome.kind === 'stuck') throw new CommandError(describeStop(m.id, m.pid, outcome), ExitCode.Failure);
  updateMember(ctx.dir, m.id, { state: MemberState.Stopped });
  return memberResult(ctx, m, 'stopped', describeStop(m.id, m.pid, outcome));
}

export async function pause(ctx: Context): Promise<ExitCode> {
  const { m } = liveMember(ctx);
  if (m.state === MemberState.Paused) {
    throw new CommandError(
      `member ${m.id} is already paused; continue it with '${ctx.hint(`cluster resume ${m.id}`)}'`,
      ExitCode.Failure,
    );
  }
  killPid(m.pid as number, 'SIGSTOP');
  updateMember(ctx.dir, m.id, { state: MemberState.Paused });
  return memberResult(
    ctx,
    m,
    'paused',
    `${m.id} (pid ${m.pid}) paused with SIGSTOP; continue it with '${ctx.hint(`cluster resume ${m.id}`)}'`,
  );
}

export async function resume(ctx: Context): Promise<ExitCode> {
  const { m } = liveMember(ctx);
  if (m.state !== MemberState.Paused)
    throw new CommandError(`member ${m.id} is not paused`, ExitCode.Failure);
  killPid(m.pid as number, 'SIGCONT');
  updateMember(ctx.dir, m.id, { state: MemberState.Running });
  return memberResult(ctx, m, 'resumed', `${m.id} (pid ${m.pid}) resumed with SIGCONT`);
}

export async function restart(ctx: Context): Promise<ExitCode> {
  const grace = graceMs(ctx); // a usage mistake stops the command before anything is touched
  const file = requireFile(ctx);
  let m = requireMember(ctx, file);
  const lines: string[] = [];
  if (isLive(m)) {
    const outcome = await stopMember(m, grace);
    if (outcome.kind === 'stuck')
      throw new CommandError(describeStop(m.id, m.pid, outcome), ExitCode.Failure);
    lines.push(describeStop(m.id, m.pid, outcome));
    m = updateMember(ctx.dir, m.id, { state: MemberState.Stopped })?.members.find((x) => x.id === m.id) ?? m;
  }
  // A member killed a moment ago may still be releasing its sockets: give it a bounded moment.
  const ports = [m.ports.peer, m.ports.client, m.ports.http];
  let busy = await busyPorts(file.host, ports);
  for (let waited = 0; busy.length > 0 && waited < 5000; waited += 50) {
    await new Promise((r) => setTimeout(r, 50));
    busy = await busyPorts(file.host, ports);
  }
  if (busy.length > 0) {
    throw new CommandError(
      `port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} of ${m.id} already in use on ${file.host}; stop what holds ${busy.length > 1 ? 'them' : 'it'} first`,
      ExitCode.Failure,
    );
  }
  const rec = await startMember(m, { env: ctx.env, ...(ctx.io.onSpawn ? { onSpawn: ctx.io.onSpawn } : {}) });
  updateMember(ctx.dir, m.id, rec);
  lines.push(`${m.id} started again (pid ${rec.pid}); log: ${rec.logFile}`);
  emit(ctx, { id: rec.id, pid: rec.pid, action: 'restarted', state: rec.state }, lines);
  return ExitCode.Ok;
}

// ---------------------------------------------------------------------------------------------
// add-node, remove-node (membership changes, dissertation ch. 4)
