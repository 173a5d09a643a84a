import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { trackPid, untrackPid } from './processes.js';

/** What `keel node` needs to be one member of a static cluster. */
export interface MemberCommand {
  /** The member script (apps/node's `dist/main.js`): a package cannot know where apps live. */
  readonly program: string;
  /** The binary that runs it (default: this process's node). */
  readonly nodeBinary?: string;
  readonly id: string;
  /** Every member's peer address, `id=host:port,...` (`--peers`). */
  readonly peers: string;
  /** Every member's client address, `id=host:port,...` (`--clients`). */
  readonly clients: string;
  /** This member's admin HTTP address, `host:port` (`--http`). */
  readonly http: string;
  readonly dataDir: string;
  /** Flags after the common ones (`--election-timeout 300`, `--peer-bind ...`). */
  readonly extraArgs?: readonly string[];
}

/**
 * The command line of one member: `[nodeBinary, program, --id ..., --peers ..., --clients ...,
 * --http ..., --data-dir ..., --log-format json, ...extraArgs]`. The program stays argv[1], which
 * is how a launcher recognizes its member's process later.
 */
export function memberCommand(c: MemberCommand): string[] {
  return [
    c.nodeBinary ?? process.execPath,
    c.program,
    '--id',
    c.id,
    '--peers',
    c.peers,
    '--clients',
    c.clients,
    '--http',
    c.http,
    '--data-dir',
    c.dataDir,
    '--log-format',
    'json',
    ...(c.extraArgs ?? []),
  ];
}

/** `id=address` for each member, comma-joined: the shape of `--peers` and `--clients`. */
export function addressList(ids: readonly string[], address: (id: string, i: number) => string): string {
  return ids.map((id, i) => `${id}=${address(id, i)}`).join(',');
}

export interface LaunchOptions {
  /** For messages: the member id. */
  readonly id: string;
  /** The full command line, binary first. */
  readonly command: readonly string[];
  /** Working directory (created if missing). */
  readonly cwd?: string;
  /** The child's whole environment (default: this process's). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Where stdout and stderr go: appended to a log file (after a `banner` line, if given), or piped
   * to this process (`pipe`), or dropped.
   */
  readonly output: { readonly logFile: string; readonly banner?: string } | 'pipe' | 'ignore';
  /** Own process group: a terminal's Ctrl-C then reaches only the launcher, which stops members in order. */
  readonly detached?: boolean;
  /** Register the PID for `killAllStarted` and the exit hook until the process exits (default true). */
  readonly track?: boolean;
}

export interface LaunchedProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves once the process runs; rejects with a one-line message if it could not start. */
  readonly spawned: Promise<void>;
  /** Resolves when it exits: the exit code, or the signal that ended it. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
}

/**
 * Starts one member OS process and returns at once. Throws when the OS gives no PID; otherwise the
 * caller owns the PID (kill it by PID only) and, unless `track: false`, so does the registry.
 */
export function launchMember(o: LaunchOptions): LaunchedProcess {
  const { child, spawned } = spawnChild(o);
  if (child.pid === undefined) throw new Error(`could not start member ${o.id}: no PID`);
  return launched(o, child, child.pid, spawned);
}

/**
 * Starts one member OS process and resolves once it runs; rejects with a one-line message naming
 * the reason (`spawn /x ENOENT`) when it could not start.
 */
export async function startMemberProcess(o: LaunchOptions): Promise<LaunchedProcess> {
  const { child, spawned } = spawnChild(o);
  await spawned;
  if (child.pid === undefined) throw new Error(`could not start member ${o.id}: no PID`);
  return launched(o, child, child.pid, spawned);
}

function spawnChild(o: LaunchOptions): { child: ChildProcess; spawned: Promise<void> } {
  const [bin, ...args] = o.command;
  if (bin === undefined) throw new Error(`member ${o.id} has no command line`);
  if (o.cwd !== undefined) mkdirSync(o.cwd, { recursive: true });
  let fd: number | null = null;
  if (typeof o.output === 'object') {
    fd = openSync(o.output.logFile, 'a');
    if (o.output.banner !== undefined) writeSync(fd, `${o.output.banner}\n`);
  }
  try {
    const out = fd ?? (o.output as 'pipe' | 'ignore');
    const child = spawn(bin, args, {
      stdio: ['ignore', out, out],
      ...(o.cwd !== undefined ? { cwd: o.cwd } : {}),
      env: { ...(o.env ?? process.env) },
      detached: o.detached ?? false,
    });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`could not start member ${o.id}: ${err.message}`)));
    });
    // A later 'error' (a failed signal) must not crash the launcher; callers that care await it.
    spawned.catch(() => {});
    child.on('error', () => {});
    return { child, spawned };
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function launched(
  o: LaunchOptions,
  child: ChildProcess,
  pid: number,
  spawned: Promise<void>,
): LaunchedProcess {
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  if (o.track ?? true) {
    trackPid(pid);
    void exited.then(() => untrackPid(pid));
  }
  return { pid, child, spawned, exited };
}
