import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ClusterFile,
  clusterFilePath,
  type MemberRecord,
  MemberState,
  readClusterFile,
  writeClusterFile,
} from '../../cluster/ClusterFile.js';
import { describeStop, type StopOutcome, stopMember } from '../../cluster/launcher.js';
import { sampleCluster } from '../../cluster/sample.js';
import { ExitCode } from '../../io.js';
import { type Context, graceMs, isLive, noCluster, requireFile, updateMember } from './context.js';

/** What `downCluster` did: whom it treated as leader when it chose the order, and each stop in order. */
export interface DownResult {
  /** The leader by the sample taken before the first stop; null when none was known. */
  readonly leader: string | null;
  /** One per member, followers first, the leader (if any) last. */
  readonly stops: readonly { readonly member: MemberRecord; readonly outcome: StopOutcome }[];
}

/**
 * Orderly stop: followers first (in parallel), then the leader, so no member starts an election
 * for a leader that is about to go and the leader's handover is skipped when nobody is left.
 * Writes each member's new state as soon as it has stopped.
 */
export async function downCluster(
  ctx: Context,
  file: ClusterFile,
  grace: number,
  report: (line: string) => void,
): Promise<DownResult> {
  // A second to answer: on a busy machine a shorter wait can miss the leader and lose the order.
  const sample = await sampleCluster(file, { timeoutMs: 1000 });
  const leader = sample.leader;
  const stopOne = async (m: MemberRecord): Promise<{ member: MemberRecord; outcome: StopOutcome }> => {
    const outcome = await stopMember(m, grace);
    report(describeStop(m.id, m.pid, outcome));
    if (outcome.kind !== 'stuck') updateMember(ctx.dir, m.id, { state: MemberState.Stopped });
    return { member: m, outcome };
  };
  const first = file.members.filter((m) => m.id !== leader);
  const last = file.members.filter((m) => m.id === leader);
  const stops = await Promise.all(first.map(stopOne));
  stops.push(...(await Promise.all(last.map(stopOne))));
  const current = readClusterFile(ctx.dir);
  if (current !== null) writeClusterFile({ ...current, launcherPid: null });
  return { leader, stops };
}

export async function down(ctx: Context): Promise<ExitCode> {
  const grace = graceMs(ctx); // a usage mistake stops the command before anything is touched
  const file = requireFile(ctx);
  const clean = ctx.values.clean === true;
  const live = file.members.filter(isLive);
  if (live.length === 0 && !clean) {
    for (const m of file.members)
      if (m.state !== MemberState.Stopped) updateMember(ctx.dir, m.id, { state: MemberState.Stopped });
    throw noCluster(ctx);
  }
  const { leader, stops } = await downCluster(ctx, file, grace, (line) => {
    if (!ctx.json) ctx.io.out(line);
  });
  const stuck = stops.some((s) => s.outcome.kind === 'stuck');
  if (clean && !stuck) {
    for (const m of file.members) rmSync(m.dataDir, { recursive: true, force: true });
    // Data dirs of members that remove-node took out of the configuration, too.
    for (const name of readdirSync(ctx.dir)) {
      if (/^n\d+$/.test(name) && existsSync(join(ctx.dir, name, 'member.json')))
        rmSync(join(ctx.dir, name), { recursive: true, force: true });
    }
    rmSync(clusterFilePath(ctx.dir), { force: true });
    // The keys of `up --secure` belong to this cluster: the next one makes its own.
    rmSync(join(ctx.dir, 'keys'), { recursive: true, force: true });
    if (!ctx.json) ctx.io.out(`deleted the members' data and the cluster file in ${ctx.dir}`);
  } else if (!ctx.json) {
    ctx.io.out(`cluster in ${ctx.dir} stopped; its data stays for the next '${ctx.hint('cluster up')}'`);
  }
  if (ctx.json) {
    ctx.io.out(
      JSON.stringify({
        dir: ctx.dir,
        // In the order they were stopped: followers first, then `leader` (the leader when the
        // order was decided; leadership may have moved since).
        leader,
        stopped: stops.map((s) => ({ id: s.member.id, pid: s.member.pid, outcome: s.outcome.kind })),
        cleaned: clean && !stuck,
      }),
    );
  }
  return stuck ? ExitCode.Failure : ExitCode.Ok;
}
