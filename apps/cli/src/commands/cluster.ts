import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { makeDirectory } from '@keel/node';
import { busyPorts, killPid, memberPorts } from '@keel/ops';
import {
  type ClusterFile,
  ClusterFileError,
  clusterFilePath,
  findMember,
  type MemberRecord,
  MemberState,
  readClusterFile,
  withMember,
  writeClusterFile,
} from '../cluster/ClusterFile.js';
import {
  describeStop,
  type ExitNotice,
  memberId,
  newMemberRecord,
  planCluster,
  type StopOutcome,
  startMember,
  stopMember,
} from '../cluster/launcher.js';
import { fileSize, followFile, prettyLogLine, tailLines } from '../cluster/logs.js';
import { checkOwnership } from '../cluster/ownership.js';
import { defaultClusterDir, memberProgram, repoRoot } from '../cluster/paths.js';
import { basePortProblem, CLUSTER_HOST, DEFAULT_BASE_PORT, MAX_MEMBERS } from '../cluster/ports.js';
import { type ClusterSample, leaderSettled, sampleCluster } from '../cluster/sample.js';
import { changeLines, LiveFrame, renderTable, sampleJson, summaryLine, viewHeader } from '../cluster/view.js';
import { ExitCode, type Io } from '../io.js';
import { addMember, changeMembers, MembersError } from './members.js';

export const CLUSTER_HELP = `keel cluster — run a local cluster of real \`keel node\` processes

Usage: keel cluster <command> [options]

Commands:
  up [-n <count>] [--base-port <p>] [--detach]
                      start members n1..n<count> (default 3) and show a live view; Ctrl-C
                      stops the cluster. --detach returns once a leader is elected.
  status              one table (or --json) of every member
  down [--clean]      stop every member (SIGTERM, SIGKILL after --timeout); --clean also
                      deletes the members' data and the cluster file
  stop <id>           stop one member gracefully (SIGTERM, then SIGKILL)
  kill <id>           kill one member at once (SIGKILL), as a crash would
  restart <id>        start a member again with the same command line (stops it first if running)
  pause <id>          freeze a member (SIGSTOP); resume <id> continues it (SIGCONT)
  logs <id> [-f] [-n <lines>] [--raw]
                      print a member's log; -f follows it
  add-node [--learner]
                      start a new member (next free id, ports by the same scheme) that joins
                      the running cluster: added as a learner, promoted to voter once caught up
                      (keel members add); --learner leaves it a learner
  remove-node <id>    remove a member from the configuration (keel members remove), then stop it;
                      its data dir is kept

Options:
  --dir <dir>         cluster directory (default: <repo>/.cluster inside the checkout,
                      ./keel-cluster elsewhere; env KEEL_CLUSTER_DIR)
  -n, --members <n>   members for up, 1-${MAX_MEMBERS} (odd sizes tolerate the most failures; default 3)
  --base-port <p>     member i listens on peer p+i, client p+100+i, HTTP p+200+i
                      (default ${DEFAULT_BASE_PORT}: n1 uses 7101, 7201, 7301)
  --detach            up: return once a leader is elected, leave the members running
  --timeout <s>       up --detach: seconds to wait for a leader (default 15);
                      down/stop/restart: seconds before SIGKILL (default 5)
  --json              machine-readable output (one JSON document on stdout)
  -h, --help          this help

Each member writes its data and its log (member.log) to <dir>/<id>/; <dir>/cluster.json records
ids, PIDs and ports for the other commands. A PID is only signalled after checking it is still
that member's process.

Exit codes: 0 ok (status: a leader is known), 1 failure (no leader, a member did not start, ports
in use, a cluster already running), 2 usage error, 4 no cluster running in the directory.`;

const SUBCOMMANDS = [
  'up',
  'down',
  'status',
  'stop',
  'kill',
  'restart',
  'pause',
  'resume',
  'logs',
  'add-node',
  'remove-node',
] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];
const WITH_ID: ReadonlySet<Subcommand> = new Set([
  'stop',
  'kill',
  'restart',
  'pause',
  'resume',
  'logs',
  'remove-node',
]);

const COMMON = {
  dir: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;
const TIMEOUT = { timeout: { type: 'string' } } as const;

/** The options of each command (parseArgs rejects any other); `-n` means members for up, lines for logs. */
const OPTIONS = {
  up: {
    ...COMMON,
    ...TIMEOUT,
    members: { type: 'string', short: 'n' },
    'base-port': { type: 'string' },
    detach: { type: 'boolean' },
  },
  down: { ...COMMON, ...TIMEOUT, clean: { type: 'boolean' } },
  status: COMMON,
  stop: { ...COMMON, ...TIMEOUT },
  kill: COMMON,
  restart: { ...COMMON, ...TIMEOUT },
  pause: COMMON,
  resume: COMMON,
  logs: {
    ...COMMON,
    follow: { type: 'boolean', short: 'f' },
    lines: { type: 'string', short: 'n' },
    raw: { type: 'boolean' },
  },
  'add-node': { ...COMMON, ...TIMEOUT, learner: { type: 'boolean' } },
  'remove-node': { ...COMMON, ...TIMEOUT },
} as const satisfies Record<Subcommand, ParseArgsConfig['options']>;
type OptionName =
  | 'dir'
  | 'json'
  | 'help'
  | 'timeout'
  | 'members'
  | 'base-port'
  | 'detach'
  | 'clean'
  | 'follow'
  | 'lines'
  | 'raw'
  | 'learner';

/** A user mistake or an unusable situation: one line on stderr and an exit code. */
class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

interface Context {
  readonly sub: Subcommand;
  readonly io: Io;
  readonly dir: string;
  readonly json: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stop: AbortSignal;
  /** How to spell the CLI in hints: `pnpm keel` inside the checkout, `keel` elsewhere. */
  readonly cli: string;
  readonly values: Partial<Record<OptionName, string | boolean>>;
  readonly id: string | null;
}

export async function runClusterCommand(argv: readonly string[], io: Io): Promise<ExitCode> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    io.out(CLUSTER_HELP);
    return sub === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) {
    io.err(
      `keel cluster: unknown command '${sub}' (expected ${SUBCOMMANDS.join(', ')}); run 'keel cluster --help'`,
    );
    return ExitCode.Usage;
  }
  const name = sub as Subcommand;
  try {
    const ctx = parse(name, rest, io);
    if (ctx === 'help') {
      io.out(CLUSTER_HELP);
      return ExitCode.Ok;
    }
    return await COMMANDS[name](ctx);
  } catch (err) {
    if (err instanceof CommandError) {
      io.err(`keel cluster ${name}: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof ClusterFileError) {
      io.err(`keel cluster ${name}: ${err.message}`);
      return ExitCode.Failure;
    }
    throw err;
  }
}

function usage(message: string): CommandError {
  return new CommandError(`${message}; run 'keel cluster --help'`, ExitCode.Usage);
}

function parse(sub: Subcommand, args: readonly string[], io: Io): Context | 'help' {
  let parsed: { values: Partial<Record<OptionName, string | boolean>>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options: OPTIONS[sub],
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional.*$/s, '').replace(/\.$/, '');
    throw usage(`${message.charAt(0).toLowerCase()}${message.slice(1)} for '${sub}'`);
  }
  if (parsed.values.help === true) return 'help';
  let id: string | null = null;
  if (WITH_ID.has(sub)) {
    if (parsed.positionals.length === 0) throw usage(`missing member id (e.g. 'keel cluster ${sub} n1')`);
    if (parsed.positionals.length > 1)
      throw usage(`expected one member id, got '${parsed.positionals.join(' ')}'`);
    id = parsed.positionals[0] ?? null;
  } else if (parsed.positionals.length > 0) {
    throw usage(`unexpected argument '${parsed.positionals[0]}'`);
  }
  const cwd = io.cwd ?? process.cwd();
  const env = io.env ?? process.env;
  const dirFlag = parsed.values.dir;
  return {
    sub,
    io,
    dir: typeof dirFlag === 'string' ? resolve(cwd, dirFlag) : defaultClusterDir(cwd, env),
    json: parsed.values.json === true,
    env,
    stop: io.stop ?? new AbortController().signal,
    cli: repoRoot() !== null ? 'pnpm keel' : 'keel',
    values: parsed.values,
    id,
  };
}

function intOption(ctx: Context, name: OptionName, dflt: number, min: number, max: number): number {
  const v = ctx.values[name];
  if (typeof v !== 'string') return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw usage(`--${name} must be an integer from ${min} to ${max}, got '${v}'`);
  return n;
}

function noCluster(ctx: Context, detail = ''): CommandError {
  return new CommandError(
    `no cluster running in ${ctx.dir}${detail}; start one with '${ctx.cli} cluster up${ctx.values.dir !== undefined ? ` --dir ${ctx.values.dir}` : ''}'`,
    ExitCode.NoCluster,
  );
}

function requireFile(ctx: Context): ClusterFile {
  const file = readClusterFile(ctx.dir);
  if (file === null) throw noCluster(ctx);
  return file;
}

function isLive(m: MemberRecord): boolean {
  return m.state !== MemberState.Stopped && checkOwnership(m).kind === 'ours';
}

function requireMember(ctx: Context, file: ClusterFile): MemberRecord {
  const m = findMember(file, ctx.id ?? '');
  if (m === undefined) {
    throw usage(
      `no member '${ctx.id}' in the cluster in ${ctx.dir} (members: ${file.members.map((x) => x.id).join(', ')})`,
    );
  }
  return m;
}

/** Re-reads the file and applies a change to one member, so edits from other terminals survive. */
function updateMember(dir: string, id: string, patch: Partial<Omit<MemberRecord, 'id'>>): ClusterFile | null {
  const file = readClusterFile(dir);
  if (file === null) return null;
  const next = withMember(file, id, patch);
  writeClusterFile(next);
  return next;
}

function emit(ctx: Context, json: unknown, human: readonly string[]): void {
  if (ctx.json) ctx.io.out(JSON.stringify(json, null, 2));
  else for (const line of human) ctx.io.out(line);
}

// ---------------------------------------------------------------------------------------------
// up

/**
 * Fails fast, in one line, when `--dir` cannot hold a cluster (missing parent on a read-only or
 * special file system, a file in the way, no permission), before any member is started.
 */
function requireUsableDir(ctx: Context): void {
  const probe = join(ctx.dir, `.keel-write-test-${process.pid}`);
  try {
    makeDirectory(ctx.dir);
    writeFileSync(probe, 'ok');
    rmSync(probe, { force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new CommandError(
      `cannot use --dir ${ctx.dir}: it is not a writable directory (${code})`,
      ExitCode.Failure,
    );
  }
}

async function up(ctx: Context): Promise<ExitCode> {
  requireUsableDir(ctx);
  const existing = readClusterFile(ctx.dir);
  if (existing !== null) {
    const live = existing.members.filter(isLive);
    if (live.length > 0) {
      throw new CommandError(
        `a cluster is already running in ${ctx.dir} (${live.map((m) => `${m.id} pid ${m.pid}`).join(', ')}); see '${ctx.cli} cluster status' or stop it with '${ctx.cli} cluster down'`,
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
  if (existing !== null && existing.members.length !== size && ctx.values.members !== undefined) {
    throw new CommandError(
      `${ctx.dir} holds the data of a ${existing.members.length}-member cluster; use -n ${existing.members.length}, another --dir, or delete it with '${ctx.cli} cluster down --clean'`,
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
  let plan = planCluster({
    dir: ctx.dir,
    host: CLUSTER_HOST,
    basePort,
    size,
    program,
    nodeBinary: process.execPath,
    ...(clusterId !== undefined ? { clusterId } : {}),
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
  return detach ? waitForLeader(ctx, file, exits, started) : watch(ctx, exits);
}

async function waitForLeader(
  ctx: Context,
  file: ClusterFile,
  exits: ExitNotice[],
  started: number,
): Promise<ExitCode> {
  const timeoutMs = intOption(ctx, 'timeout', 15, 1, 3600) * 1000;
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
    `status: ${ctx.cli} cluster status   logs: ${ctx.cli} cluster logs n1 -f   stop: ${ctx.cli} cluster down`,
  ]);
  return ExitCode.Ok;
}

/** The foreground live view, until Ctrl-C/SIGTERM (then an orderly down) or a down elsewhere. */
async function watch(ctx: Context, exits: ExitNotice[]): Promise<ExitCode> {
  const tty = ctx.io.isTTY === true && ctx.io.write !== undefined && !ctx.json;
  const frame = tty && ctx.io.write ? new LiveFrame(ctx.io.write, ctx.io.columns ?? 0) : null;
  const header = viewHeader(ctx.dir, ctx.cli);
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

function graceMs(ctx: Context): number {
  return intOption(ctx, 'timeout', 5, 0, 3600) * 1000;
}

/** What `downCluster` did: whom it treated as leader when it chose the order, and each stop in order. */
interface DownResult {
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
async function downCluster(
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

async function down(ctx: Context): Promise<ExitCode> {
  const file = requireFile(ctx);
  const clean = ctx.values.clean === true;
  const live = file.members.filter(isLive);
  if (live.length === 0 && !clean) {
    for (const m of file.members)
      if (m.state !== MemberState.Stopped) updateMember(ctx.dir, m.id, { state: MemberState.Stopped });
    throw noCluster(ctx);
  }
  const { leader, stops } = await downCluster(ctx, file, graceMs(ctx), (line) => {
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
    if (!ctx.json) ctx.io.out(`deleted the members' data and the cluster file in ${ctx.dir}`);
  } else if (!ctx.json) {
    ctx.io.out(`cluster in ${ctx.dir} stopped; its data stays for the next '${ctx.cli} cluster up'`);
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

function notRunning(ctx: Context, m: MemberRecord): CommandError {
  return new CommandError(
    `member ${m.id} is not running (${m.state === MemberState.Stopped ? 'stopped' : 'its process is gone'}); start it with '${ctx.cli} cluster restart ${m.id}'`,
    ExitCode.Failure,
  );
}

/** The member named on the command line, checked to be running with a PID we own. */
function liveMember(ctx: Context): { file: ClusterFile; m: MemberRecord } {
  const file = requireFile(ctx);
  const m = requireMember(ctx, file);
  if (!file.members.some(isLive)) throw noCluster(ctx);
  if (m.state === MemberState.Stopped) throw notRunning(ctx, m);
  const own = checkOwnership(m);
  if (own.kind === 'stranger') {
    updateMember(ctx.dir, m.id, { state: MemberState.Stopped });
    throw new CommandError(
      `member ${m.id} is not running: ${own.reason}; nothing was signalled`,
      ExitCode.Failure,
    );
  }
  if (own.kind === 'gone') throw notRunning(ctx, m);
  return { file, m };
}

function memberResult(ctx: Context, m: MemberRecord, action: string, line: string): ExitCode {
  const rec = readClusterFile(ctx.dir);
  const now = rec === null ? m : (findMember(rec, m.id) ?? m);
  emit(ctx, { id: now.id, pid: now.pid, action, state: now.state }, [line]);
  return ExitCode.Ok;
}

async function kill(ctx: Context): Promise<ExitCode> {
  const { m } = liveMember(ctx);
  const outcome = await stopMember(m, 0, true);
  if (outcome.kind === 'stuck') throw new CommandError(describeStop(m.id, m.pid, outcome), ExitCode.Failure);
  updateMember(ctx.dir, m.id, { state: MemberState.Stopped });
  return memberResult(
    ctx,
    m,
    'killed',
    `${m.id} (pid ${m.pid}) killed with SIGKILL; start it again with '${ctx.cli} cluster restart ${m.id}'`,
  );
}

async function stop(ctx: Context): Promise<ExitCode> {
  const { m } = liveMember(ctx);
  const outcome = await stopMember(m, graceMs(ctx));
  if (outcome.kind === 'stuck') throw new CommandError(describeStop(m.id, m.pid, outcome), ExitCode.Failure);
  updateMember(ctx.dir, m.id, { state: MemberState.Stopped });
  return memberResult(ctx, m, 'stopped', describeStop(m.id, m.pid, outcome));
}

async function pause(ctx: Context): Promise<ExitCode> {
  const { m } = liveMember(ctx);
  if (m.state === MemberState.Paused) {
    throw new CommandError(
      `member ${m.id} is already paused; continue it with '${ctx.cli} cluster resume ${m.id}'`,
      ExitCode.Failure,
    );
  }
  killPid(m.pid as number, 'SIGSTOP');
  updateMember(ctx.dir, m.id, { state: MemberState.Paused });
  return memberResult(
    ctx,
    m,
    'paused',
    `${m.id} (pid ${m.pid}) paused with SIGSTOP; continue it with '${ctx.cli} cluster resume ${m.id}'`,
  );
}

async function resume(ctx: Context): Promise<ExitCode> {
  const { m } = liveMember(ctx);
  if (m.state !== MemberState.Paused)
    throw new CommandError(`member ${m.id} is not paused`, ExitCode.Failure);
  killPid(m.pid as number, 'SIGCONT');
  updateMember(ctx.dir, m.id, { state: MemberState.Running });
  return memberResult(ctx, m, 'resumed', `${m.id} (pid ${m.pid}) resumed with SIGCONT`);
}

async function restart(ctx: Context): Promise<ExitCode> {
  const file = requireFile(ctx);
  let m = requireMember(ctx, file);
  const lines: string[] = [];
  if (isLive(m)) {
    const outcome = await stopMember(m, graceMs(ctx));
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

/** The flag values of a recorded command line (`--peers a,b` → 'a,b'). */
function flagOf(command: readonly string[], flag: string): string | undefined {
  const i = command.indexOf(flag);
  return i >= 0 ? command[i + 1] : undefined;
}

/** Rewrites `flag`'s value in a command line (appending it when absent). */
function withFlag(command: readonly string[], flag: string, value: string): string[] {
  const out = [...command];
  const i = out.indexOf(flag);
  if (i >= 0) out[i + 1] = value;
  else out.push(flag, value);
  return out;
}

function membersEndpoints(file: ClusterFile): string[] {
  return file.members.filter(isLive).map((m) => `${file.host}:${m.ports.http}`);
}

function changeError(err: unknown): never {
  if (err instanceof MembersError) throw new CommandError(err.message, err.exitCode);
  throw err;
}

async function addNode(ctx: Context): Promise<ExitCode> {
  const file = requireFile(ctx);
  const live = file.members.filter(isLive);
  if (live.length === 0) throw noCluster(ctx);
  // Never reuse an id: a removed member's id may still count as a voter in a stale configuration
  // somewhere, so a new member under it could vote with an empty log. Removed members keep their
  // data dirs (until down --clean), so the directory names remember them.
  const used = [...file.members.map((m) => m.id), ...readdirSync(ctx.dir)].map((id) =>
    Number(/^n(\d+)$/.exec(id)?.[1] ?? 0),
  );
  const index = Math.max(0, ...used) + 1;
  if (index > 99) throw new CommandError('no member index left (n1..n99)', ExitCode.Failure);
  const id = memberId(index);
  const ports = memberPorts(file.basePort, index);
  if (ports.http > 65535)
    throw new CommandError(`${id} would need port ${ports.http}: above 65535`, ExitCode.Failure);
  const busy = await busyPorts(file.host, [ports.peer, ports.client, ports.http]);
  if (busy.length > 0) {
    throw new CommandError(
      `port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} for ${id} already in use on ${file.host}`,
      ExitCode.Failure,
    );
  }
  // The new member's command line is a member's with its own id, ports and data dir, every
  // member (itself included) in --peers/--clients, and --join: it takes the configuration from
  // the leader instead of bootstrapping one.
  const template = live[0]!.command;
  const addr = (m: { id: string; ports: { peer: number; client: number } }, kind: 'peer' | 'client') =>
    `${m.id}=${file.host}:${m.ports[kind]}`;
  const everyone = [...file.members, { id, ports }];
  const dataDir = join(ctx.dir, id);
  let command = withFlag(template, '--id', id);
  command = withFlag(command, '--peers', everyone.map((m) => addr(m, 'peer')).join(','));
  if (flagOf(template, '--clients') !== undefined)
    command = withFlag(command, '--clients', everyone.map((m) => addr(m, 'client')).join(','));
  command = withFlag(command, '--http', `${file.host}:${ports.http}`);
  command = withFlag(command, '--data-dir', dataDir);
  if (!command.includes('--join')) command.push('--join');
  const record = newMemberRecord(id, ports, dataDir, command);
  const started = await startMember(record, {
    env: ctx.env,
    ...(ctx.io.onSpawn ? { onSpawn: ctx.io.onSpawn } : {}),
  });
  const latest = requireFile(ctx);
  writeClusterFile({ ...latest, members: [...latest.members, started] });
  const lines = [`${id} started (pid ${started.pid}); log: ${started.logFile}`];
  if (!ctx.json) ctx.io.out(lines[0]!);
  const timeoutMs = intOption(ctx, 'timeout', 10, 1, 3600) * 1000;
  const reply = await addMember(
    membersEndpoints(latest),
    {
      id,
      peer: `${file.host}:${ports.peer}`,
      client: `${file.host}:${ports.client}`,
      http: `${file.host}:${ports.http}`,
      learner: ctx.values.learner === true,
      timeoutMs,
      catchUpMs: Math.max(timeoutMs, 120_000),
    },
    (line) => {
      if (!ctx.json) ctx.io.out(line);
    },
  ).catch(changeError);
  emit(
    ctx,
    {
      id,
      pid: started.pid,
      action: 'added',
      role: ctx.values.learner === true ? 'learner' : 'voter',
      index: reply.index,
    },
    [`${id} is a ${ctx.values.learner === true ? 'learner' : 'voter'} of the cluster`],
  );
  return ExitCode.Ok;
}

async function removeNode(ctx: Context): Promise<ExitCode> {
  const file = requireFile(ctx);
  const m = requireMember(ctx, file);
  const timeoutMs = intOption(ctx, 'timeout', 10, 1, 3600) * 1000;
  const others = file.members.filter((x) => x.id !== m.id && isLive(x));
  if (others.length === 0)
    throw new CommandError(`${m.id} is the last running member; use 'cluster down'`, ExitCode.Failure);
  const reply = await changeMembers(
    membersEndpoints(file),
    { action: 'remove', id: m.id },
    performance.now() + timeoutMs,
  ).catch(changeError);
  const lines = [`${m.id} removed from the configuration (index ${reply.index})`];
  if (isLive(m)) {
    const outcome = await stopMember(m, graceMs(ctx));
    lines.push(describeStop(m.id, m.pid, outcome));
  }
  const latest = requireFile(ctx);
  writeClusterFile({ ...latest, members: latest.members.filter((x) => x.id !== m.id) });
  lines.push(`its data dir ${m.dataDir} is kept`);
  emit(ctx, { id: m.id, action: 'removed', index: reply.index }, lines);
  return ExitCode.Ok;
}

// ---------------------------------------------------------------------------------------------
// status, logs

async function status(ctx: Context): Promise<ExitCode> {
  const file = requireFile(ctx);
  if (!file.members.some(isLive)) {
    const counts = file.members.filter((m) => m.state !== MemberState.Stopped).length;
    throw noCluster(
      ctx,
      counts > 0 ? ` (the recorded member processes are gone)` : ' (every member is stopped)',
    );
  }
  const sample = await sampleCluster(file, { timeoutMs: 500 });
  emit(ctx, sampleJson(sample), [
    `cluster in ${ctx.dir}: ${summaryLine(sample)}`,
    ...renderTable(sample, false),
  ]);
  return sample.leader !== null ? ExitCode.Ok : ExitCode.Failure;
}

async function logs(ctx: Context): Promise<ExitCode> {
  const file = requireFile(ctx);
  const m = requireMember(ctx, file);
  const count = ctx.values.lines === undefined ? null : intOption(ctx, 'lines', 0, 0, 10_000_000);
  const pretty = ctx.values.raw !== true && ctx.io.isTTY === true;
  const show = (line: string): void => ctx.io.out(pretty ? prettyLogLine(line) : line);
  if (!existsSync(m.logFile) && ctx.values.follow !== true) {
    throw new CommandError(`member ${m.id} has no log yet (${m.logFile})`, ExitCode.Failure);
  }
  const from = fileSize(m.logFile);
  for (const line of tailLines(m.logFile, count)) show(line);
  if (ctx.values.follow === true) await followFile(m.logFile, from, show, ctx.stop);
  return ExitCode.Ok;
}

const COMMANDS: Record<Subcommand, (ctx: Context) => Promise<ExitCode>> = {
  up,
  down,
  status,
  stop,
  kill,
  restart,
  pause,
  resume,
  logs,
  'add-node': addNode,
  'remove-node': removeNode,
};
