/** `keel cluster up`: plan, start, wait for a leader, then detach or watch live. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { busyPorts } from '@keel/ops';
import {
  type ClusterFile,
  type MemberRecord,
  MemberState,
  readClusterFile,
  withMember,
  writeClusterFile,
} from '../../cluster/ClusterFile.js';
import { ensureClusterKeys, secureArgs, useClusterAdminToken } from '../../cluster/keys.js';
import { type ExitNotice, memberId, planCluster, startMember } from '../../cluster/launcher.js';
import { tailLines } from '../../cluster/logs.js';
import { memberProgram } from '../../cluster/paths.js';
import { basePortProblem, CLUSTER_HOST, DEFAULT_BASE_PORT, MAX_MEMBERS } from '../../cluster/ports.js';
import { type ClusterSample, leaderSettled, sampleCluster } from '../../cluster/sample.js';
import {
  changeLines,
  LiveFrame,
  renderTable,
  sampleJson,
  summaryLine,
  viewHeader,
} from '../../cluster/view.js';
import { ExitCode } from '../../io.js';
import {
  CommandError,
  type Context,
  durationOption,
  emit,
  flagOf,
  graceMs,
  intOption,
  isLive,
  requireUsableDir,
  sizeOption,
  usage,
} from './context.js';
import { downCluster } from './down.js';

/** WAL segment size of a local cluster's members: about 8 MiB of WAL each on a laptop. */
const LOCAL_WAL_SEGMENT_SIZE = '4MiB';
/** The dashboard's port: `--dashboard-port`, else the base port + 400 (7500), else any free one. */
const DASHBOARD_PORT_OFFSET = 400;
/** `up --detach --timeout`: how long to wait for a leader. */
const UP_TIMEOUT = { minMs: 1, maxMs: 3_600_000 } as const;

export async function up(ctx: Context): Promise<ExitCode> {
  // A usage mistake must stop the command before any member starts (read again by waitForLeader).
  durationOption(ctx, 'timeout', 15_000, UP_TIMEOUT);
  requireUsableDir(ctx);
  const existing = readClusterFile(ctx.dir);
  if (existing !== null) {
    const live = existing.members.filter(isLive);
    if (live.length > 0) {
      throw new CommandError(
        `a cluster is already running in ${ctx.dir} (${live.map((m) => `${m.id} pid ${m.pid}`).join(', ')}); see '${ctx.hint('cluster status')}' or stop it with '${ctx.hint('cluster down')}'`,
        ExitCode.Failure,
      );
    }
  }
  // A stopped cluster starts again with its own size and ports unless told otherwise, so its data
  // directories keep matching the membership they were written with.
  const size = intOption(ctx, 'members', existing?.members.length ?? 3, 1, MAX_MEMBERS);
  const basePort = intOption(ctx, 'base-port', existing?.basePort ?? DEFAULT_BASE_PORT, 0, 65535);
  const portProblem = basePortProblem(basePort, size);
  if (portProblem !== null) throw usage(portProblem);
  const dashboardPort = intOption(
    ctx,
    'dashboard-port',
    basePort + DASHBOARD_PORT_OFFSET <= 65535 ? basePort + DASHBOARD_PORT_OFFSET : 0,
    0,
    65535,
  );
  if (existing !== null && existing.members.length !== size && ctx.values.members !== undefined) {
    throw new CommandError(
      `${ctx.dir} holds the data of a ${existing.members.length}-member cluster; use -n ${existing.members.length}, another --dir, or delete it with '${ctx.hint('cluster down --clean')}'`,
      ExitCode.Failure,
    );
  }
  const program = memberProgram(ctx.env);
  if (!existsSync(program)) {
    throw new CommandError(
      `the member program ${program} does not exist; build it with 'pnpm build' (or 'pnpm exec turbo run build --filter=@keel/node')`,
      ExitCode.Failure,
    );
  }
  const detach = ctx.values.detach === true;
  // A new cluster gets its own id; a stopped one keeps the id its data dirs were written with
  // (none for clusters from before ids: the members' default then).
  const clusterId =
    existing === null
      ? `local-${randomBytes(4).toString('hex')}`
      : flagOf(existing.members[0]?.command ?? [], '--cluster-id');
  // --secure, or a stopped cluster that was started with it: CURVE keys and an admin token.
  const secure =
    ctx.values.secure === true ||
    (existing?.members.some((m) => m.command.includes('--curve-secret-key-file')) ?? false);
  const keys = secure
    ? ensureClusterKeys(
        ctx.dir,
        existing?.members.map((m) => m.id) ?? Array.from({ length: size }, (_v, i) => memberId(i + 1)),
      )
    : null;
  let plan = planCluster({
    dir: ctx.dir,
    host: CLUSTER_HOST,
    basePort,
    size,
    program,
    nodeBinary: process.execPath,
    ...(clusterId !== undefined ? { clusterId } : {}),
    // Small WAL segments: a laptop cluster takes ~8 MiB of WAL per member, not 128 MiB.
    extraArgs: [
      '--wal-segment-size',
      sizeOption(ctx, 'wal-segment-size', LOCAL_WAL_SEGMENT_SIZE, 64 * 1024, 1024 ** 3),
    ],
    ...(keys === null ? {} : { memberArgs: (id: string) => secureArgs(keys, id) }),
  });
  // After add-node/remove-node the members are no longer n1..n<size>: start the recorded ones.
  if (existing?.members.some((m, i) => m.id !== plan.members[i]?.id)) {
    plan = { ...plan, members: existing.members.map((m) => ({ ...m, state: MemberState.Stopped })) };
  }
  const busy = await busyPorts(
    CLUSTER_HOST,
    plan.members.flatMap((m) => [m.ports.peer, m.ports.client, m.ports.http]),
  );
  if (busy.length > 0) {
    throw new CommandError(
      `port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} already in use on ${CLUSTER_HOST}; stop what holds ${busy.length > 1 ? 'them' : 'it'} or choose other ports with --base-port <p>`,
      ExitCode.Failure,
    );
  }

  let file: ClusterFile = { ...plan, launcherPid: detach ? null : process.pid };
  if (existing !== null) file = { ...file, createdAt: existing.createdAt };
  writeClusterFile(file);
  // The admin API of keyed members wants the token (read once the cluster file says they are keyed).
  if (keys !== null) {
    const tokenProblem = useClusterAdminToken(ctx.dir, ctx.env);
    if (tokenProblem !== null) throw new CommandError(tokenProblem, ExitCode.Failure);
  }
  const exits: ExitNotice[] = [];
  const started = Date.now();
  for (const m of plan.members) {
    let rec: MemberRecord;
    try {
      rec = await startMember(m, {
        env: ctx.env,
        onExit: (n) => exits.push(n),
        ...(ctx.io.onSpawn ? { onSpawn: ctx.io.onSpawn } : {}),
      });
    } catch (err) {
      await downCluster(ctx, file, 5000, () => undefined);
      throw new CommandError(
        `${(err as Error).message}; stopped the members already started`,
        ExitCode.Failure,
      );
    }
    file = withMember(file, m.id, rec);
    // Recorded one by one: if this process dies half-way, `down` still finds every started member.
    writeClusterFile(file);
  }
  if (!ctx.json && !detach && !ctx.io.isTTY) {
    ctx.io.out(
      `started ${size} members in ${ctx.dir}: ${file.members.map((m) => `${m.id} pid ${m.pid}`).join(', ')}`,
    );
  }
  if (detach) return waitForLeader(ctx, file, exits, started);
  const dashboard = await serveDashboard(ctx, dashboardPort);
  try {
    return await watch(ctx, exits, dashboard === null ? [] : [`dashboard: ${dashboard.url}`]);
  } finally {
    await dashboard?.close();
  }
}

/**
 * The web dashboard of the foreground cluster (`--no-dashboard`: none), served by this process
 * for as long as the live view runs. A dashboard that cannot start is reported, not fatal.
 */
async function serveDashboard(
  ctx: Context,
  wanted: number,
): Promise<{ url: string; close(): Promise<void> } | null> {
  if (ctx.values['no-dashboard'] === true) return null;
  try {
    const { startClusterDashboard } = await import('../../dashboard/start.js');
    const explicit = typeof ctx.values['dashboard-port'] === 'string';
    const dashboard = await startClusterDashboard({
      dir: ctx.dir,
      io: ctx.io,
      port: wanted,
      fallback: !explicit,
    });
    if (ctx.json) ctx.io.err(`dashboard: ${dashboard.url}`); // stdout carries the JSON lines only
    return dashboard;
  } catch (err) {
    ctx.io.err(`keel cluster up: the dashboard did not start: ${(err as Error).message}`);
    return null;
  }
}

export async function waitForLeader(
  ctx: Context,
  file: ClusterFile,
  exits: ExitNotice[],
  started: number,
): Promise<ExitCode> {
  const timeoutMs = durationOption(ctx, 'timeout', 15_000, UP_TIMEOUT);
  const deadline = started + timeoutMs;
  let sample: ClusterSample = await sampleCluster(file, { timeoutMs: 300 });
  let reason = '';
  let settledAt: number | null = null;
  for (;;) {
    if (leaderSettled(sample)) {
      // Give the slower members a moment to answer too, so the summary shows all of them.
      settledAt ??= Date.now();
      if (sample.members.every((m) => m.condition !== 'starting') || Date.now() - settledAt > 2000) break;
    } else settledAt = null;
    if (ctx.stop.aborted) reason = 'interrupted';
    else if (exits.length === file.members.length) reason = 'every member exited';
    else if (Date.now() >= deadline) reason = `no leader elected within ${timeoutMs / 1000} s`;
    if (reason !== '') break;
    await sleep(100);
    sample = await sampleCluster(file, { timeoutMs: 300, previous: sample });
  }
  if (reason !== '') {
    ctx.io.err(`keel cluster up: ${reason}; stopping the cluster. Last lines of the member logs:`);
    for (const m of file.members) {
      const exit = exits.find((e) => e.id === m.id);
      const how = exit ? ` (exited ${exit.signal ?? `with code ${exit.code}`})` : '';
      ctx.io.err(`--- ${m.id}${how}: ${m.logFile}`);
      for (const line of tailLines(m.logFile, 8)) ctx.io.err(`  ${line}`);
    }
    await downCluster(ctx, file, 5000, () => undefined);
    return ExitCode.Failure;
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  emit(ctx, sampleJson(sample), [
    `cluster of ${file.members.length} running in ${ctx.dir}; leader ${sample.leader} elected in term ${sample.term} after ${secs} s`,
    ...renderTable(sample, false),
    `status: ${ctx.hint('cluster status')}   logs: ${ctx.hint('cluster logs n1 -f')}   stop: ${ctx.hint('cluster down')}`,
  ]);
  return ExitCode.Ok;
}

/** The foreground live view, until Ctrl-C/SIGTERM (then an orderly down) or a down elsewhere. */
export async function watch(
  ctx: Context,
  exits: ExitNotice[],
  extraHeader: readonly string[] = [],
): Promise<ExitCode> {
  const tty = ctx.io.isTTY === true && ctx.io.write !== undefined && !ctx.json;
  const frame = tty && ctx.io.write ? new LiveFrame(ctx.io.write, ctx.io.columns ?? 0) : null;
  const header = [...viewHeader(ctx.dir, ctx.hint), ...extraHeader];
  if (frame === null && !ctx.json) for (const line of header) ctx.io.out(line);
  frame?.hideCursor();
  let prev: ClusterSample | null = null;
  let seenExits = 0;
  const events: string[] = [];
  let stoppedElsewhere = false;
  try {
    while (!ctx.stop.aborted) {
      const file = readClusterFile(ctx.dir);
      if (file === null || file.members.every((m) => m.state === MemberState.Stopped)) {
        stoppedElsewhere = true;
        break;
      }
      const sample = await sampleCluster(file, { timeoutMs: 400, previous: prev });
      for (const e of exits.slice(seenExits)) {
        const how = e.signal !== null ? `killed by ${e.signal}` : `exited with code ${e.code}`;
        events.push(`${new Date().toISOString().slice(11, 23)} ${e.id} (pid ${e.pid}) ${how}`);
      }
      seenExits = exits.length;
      if (frame !== null) {
        frame.draw([
          ...header,
          '',
          ...renderTable(sample, true, false),
          '',
          `${summaryLine(sample)}.  Ctrl-C stops the cluster.`,
          ...events.slice(-5),
        ]);
      } else if (ctx.json) {
        if (changeLines(prev, sample).length > 0) ctx.io.out(JSON.stringify(sampleJson(sample)));
      } else {
        for (const line of events.splice(0)) ctx.io.out(line);
        for (const line of changeLines(prev, sample)) ctx.io.out(line);
      }
      prev = sample;
      await sleep(500, undefined, { signal: ctx.stop }).catch(() => undefined);
    }
  } finally {
    frame?.showCursor();
  }
  if (stoppedElsewhere) {
    if (!ctx.json) ctx.io.out(`the cluster in ${ctx.dir} was stopped by another command`);
    return ExitCode.Ok;
  }
  const file = readClusterFile(ctx.dir);
  if (file === null) return ExitCode.Ok;
  if (!ctx.json) ctx.io.out('stopping the cluster');
  const { stops } = await downCluster(ctx, file, graceMs(ctx), (line) => {
    if (!ctx.json) ctx.io.out(line);
  });
  return stops.some((s) => s.outcome.kind === 'stuck') ? ExitCode.Failure : ExitCode.Ok;
}

// ---------------------------------------------------------------------------------------------
// down, stop, kill, restart, pause, resume
