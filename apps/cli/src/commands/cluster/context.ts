import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { makeDirectory } from '@keel/node/files';
import {
  type ClusterFile,
  findMember,
  type MemberRecord,
  MemberState,
  readClusterFile,
  withMember,
  writeClusterFile,
} from '../../cluster/ClusterFile.js';
import { useClusterAdminToken } from '../../cluster/keys.js';
import { checkOwnership } from '../../cluster/ownership.js';
import { defaultClusterDir } from '../../cluster/paths.js';
import { ExitCode, type Io } from '../../io.js';
import { type DurationBounds, parseDuration } from '../../options/duration.js';
import { cliName, targetFlags } from '../../options/hint.js';

export const SUBCOMMANDS = [
  'up',
  'down',
  'status',
  'stop',
  'kill',
  'restart',
  'pause',
  'resume',
  'isolate',
  'heal',
  'logs',
  'add-node',
  'remove-node',
] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];
export const WITH_ID: ReadonlySet<Subcommand> = new Set([
  'stop',
  'kill',
  'restart',
  'pause',
  'resume',
  'isolate',
  'heal',
  'logs',
  'remove-node',
]);

export const COMMON = {
  dir: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;
export const TIMEOUT = { timeout: { type: 'string' } } as const;

/** The options of each command (parseArgs rejects any other); `-n` means members for up, lines for logs. */
export const OPTIONS = {
  up: {
    ...COMMON,
    ...TIMEOUT,
    members: { type: 'string', short: 'n' },
    'base-port': { type: 'string' },
    detach: { type: 'boolean' },
    'wal-segment-size': { type: 'string' },
    secure: { type: 'boolean' },
    'no-dashboard': { type: 'boolean' },
    'dashboard-port': { type: 'string' },
  },
  down: { ...COMMON, ...TIMEOUT, clean: { type: 'boolean' } },
  status: COMMON,
  stop: { ...COMMON, ...TIMEOUT },
  kill: COMMON,
  restart: { ...COMMON, ...TIMEOUT },
  pause: COMMON,
  resume: COMMON,
  isolate: COMMON,
  heal: COMMON,
  logs: {
    ...COMMON,
    follow: { type: 'boolean', short: 'f' },
    lines: { type: 'string', short: 'n' },
    raw: { type: 'boolean' },
  },
  'add-node': { ...COMMON, ...TIMEOUT, learner: { type: 'boolean' } },
  'remove-node': { ...COMMON, ...TIMEOUT },
} as const satisfies Record<Subcommand, ParseArgsConfig['options']>;
export type OptionName =
  | 'dir'
  | 'json'
  | 'help'
  | 'timeout'
  | 'members'
  | 'base-port'
  | 'detach'
  | 'secure'
  | 'wal-segment-size'
  | 'clean'
  | 'follow'
  | 'lines'
  | 'raw'
  | 'learner'
  | 'no-dashboard'
  | 'dashboard-port';

/** A user mistake or an unusable situation: one line on stderr and an exit code. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export interface Context {
  readonly sub: Subcommand;
  readonly io: Io;
  readonly dir: string;
  readonly json: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stop: AbortSignal;
  /** How to spell the CLI in hints: `pnpm keel` through the checkout's scripts, `keel` elsewhere. */
  readonly cli: string;
  /** A command line to paste: `keel <rest>` plus the `--dir` of this invocation, if one was given. */
  hint(rest: string): string;
  readonly values: Partial<Record<OptionName, string | boolean>>;
  readonly id: string | null;
}

export function usage(message: string): CommandError {
  return new CommandError(`${message}; run 'keel cluster --help'`, ExitCode.Usage);
}

export function parse(sub: Subcommand, args: readonly string[], io: Io): Context | 'help' {
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
  const dir = typeof dirFlag === 'string' ? resolve(cwd, dirFlag) : defaultClusterDir(cwd, env);
  // A cluster started with --secure answers its admin API only with its token.
  const tokenProblem = useClusterAdminToken(dir, env);
  if (tokenProblem !== null) throw new CommandError(tokenProblem, ExitCode.Failure);
  return {
    sub,
    io,
    dir,
    json: parsed.values.json === true,
    env,
    stop: io.stop ?? new AbortController().signal,
    cli: cliName(env),
    hint: (rest) => `${cliName(env)} ${rest}${targetFlags(parsed.values)}`,
    values: parsed.values,
    id,
  };
}

export function intOption(ctx: Context, name: OptionName, dflt: number, min: number, max: number): number {
  const v = ctx.values[name];
  if (typeof v !== 'string') return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw usage(`--${name} must be an integer from ${min} to ${max}, got '${v}'`);
  return n;
}

/** A `--<name>` duration (`500ms`, `5s`, `2m`; a bare number is seconds), in milliseconds. */
export function durationOption(
  ctx: Context,
  name: OptionName,
  dfltMs: number,
  bounds: DurationBounds,
): number {
  const v = ctx.values[name];
  if (typeof v !== 'string') return dfltMs;
  const r = parseDuration(v, `--${name}`, bounds);
  if (!r.ok) throw usage(r.message);
  return r.ms;
}

/** A `--<name>` size: bytes, or with KiB/MiB/GiB (e.g. 4MiB), between `min` and `max` bytes. */
export function sizeOption(ctx: Context, name: OptionName, dflt: string, min: number, max: number): string {
  const v = ctx.values[name];
  if (typeof v !== 'string') return dflt;
  const m = /^(\d+)(B|KiB|MiB|GiB)?$/.exec(v);
  const unit = m?.[2] === 'KiB' ? 1024 : m?.[2] === 'MiB' ? 1024 ** 2 : m?.[2] === 'GiB' ? 1024 ** 3 : 1;
  const n = m === null ? Number.NaN : Number(m[1]) * unit;
  if (!(n >= min && n <= max))
    throw usage(`--${name} must be a size from 64KiB to 1GiB (bytes, or with KiB, MiB or GiB), got '${v}'`);
  return v;
}

export function noCluster(ctx: Context, detail = ''): CommandError {
  return new CommandError(
    `no cluster running in ${ctx.dir}${detail}; start one with '${ctx.hint('cluster up')}'`,
    ExitCode.NoCluster,
  );
}

export function requireFile(ctx: Context): ClusterFile {
  const file = readClusterFile(ctx.dir);
  if (file === null) throw noCluster(ctx);
  return file;
}

export function isLive(m: MemberRecord): boolean {
  return m.state !== MemberState.Stopped && checkOwnership(m).kind === 'ours';
}

export function requireMember(ctx: Context, file: ClusterFile): MemberRecord {
  const m = findMember(file, ctx.id ?? '');
  if (m === undefined) {
    throw usage(
      `no member '${ctx.id}' in the cluster in ${ctx.dir} (members: ${file.members.map((x) => x.id).join(', ')})`,
    );
  }
  return m;
}

/** Re-reads the file and applies a change to one member, so edits from other terminals survive. */
export function updateMember(
  dir: string,
  id: string,
  patch: Partial<Omit<MemberRecord, 'id'>>,
): ClusterFile | null {
  const file = readClusterFile(dir);
  if (file === null) return null;
  const next = withMember(file, id, patch);
  writeClusterFile(next);
  return next;
}

export function emit(ctx: Context, json: unknown, human: readonly string[]): void {
  if (ctx.json) ctx.io.out(JSON.stringify(json, null, 2));
  else for (const line of human) ctx.io.out(line);
}

// ---------------------------------------------------------------------------------------------
// up

/**
 * Fails fast, in one line, when `--dir` cannot hold a cluster (missing parent on a read-only or
 * special file system, a file in the way, no permission), before any member is started.
 */
export function requireUsableDir(ctx: Context): void {
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

export function graceMs(ctx: Context): number {
  return durationOption(ctx, 'timeout', 5000, { minMs: 0, maxMs: 3_600_000 });
}

export function notRunning(ctx: Context, m: MemberRecord): CommandError {
  return new CommandError(
    `member ${m.id} is not running (${m.state === MemberState.Stopped ? 'stopped' : 'its process is gone'}); start it with '${ctx.hint(`cluster restart ${m.id}`)}'`,
    ExitCode.Failure,
  );
}

/** The member named on the command line, checked to be running with a PID we own. */
export function liveMember(ctx: Context): { file: ClusterFile; m: MemberRecord } {
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

export function memberResult(ctx: Context, m: MemberRecord, action: string, line: string): ExitCode {
  const rec = readClusterFile(ctx.dir);
  const now = rec === null ? m : (findMember(rec, m.id) ?? m);
  emit(ctx, { id: now.id, pid: now.pid, action, state: now.state }, [line]);
  return ExitCode.Ok;
}

/** The flag values of a recorded command line (`--peers a,b` → 'a,b'). */
export function flagOf(command: readonly string[], flag: string): string | undefined {
  const i = command.indexOf(flag);
  return i >= 0 ? command[i + 1] : undefined;
}

/** Rewrites `flag`'s value in a command line (appending it when absent). */
export function withFlag(command: readonly string[], flag: string, value: string): string[] {
  const out = [...command];
  const i = out.indexOf(flag);
  if (i >= 0) out[i + 1] = value;
  else out.push(flag, value);
  return out;
}
