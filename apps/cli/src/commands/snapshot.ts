/**
 * `keel snapshot save|status|restore`: backups of a KV cluster, and new clusters from them. Each
 * subcommand lives in ./snapshot/ (one idea per file); this file parses and reports errors.
 */
import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ClusterFileError } from '../cluster/ClusterFile.js';
import { MAX_MEMBERS } from '../cluster/ports.js';
import { ExitCode, type Io } from '../io.js';
import { parseDuration } from '../options/duration.js';
import { BackupFileError } from './snapshot/backupFile.js';
import { type SnapshotArgs, SnapshotCommandError } from './snapshot/options.js';
import { restore } from './snapshot/restore.js';
import { save } from './snapshot/save.js';
import { status } from './snapshot/status.js';

export const SNAPSHOT_HELP = `keel snapshot — back up a cluster's store, and start new clusters from a backup

Usage:
  keel snapshot save <file>       the leader snapshots the state it has applied now and streams it;
                                  written to <file> atomically with a header (cluster, index, term,
                                  revision, keys, time) and a SHA-256; progress on a terminal
  keel snapshot status <file>     verify <file> (SHA-256, the store's CRC-32 and rules) and show
                                  what it holds
  keel snapshot restore <file> --dir <new dir> [-n 3] [--base-port 7100]
                                  a NEW local cluster (new id, members n1..nN) whose state is the
                                  backup; start it with 'keel cluster up --dir <new dir>'. A
                                  non-empty <new dir> is refused

Options:
  --admin-endpoints <host:port,...>
                            save: members' HTTP admin addresses; the leader among them is asked
                            (env KEEL_ADMIN_ENDPOINTS; default: the cluster file's members).
                            --endpoint, its old name, still works with a warning
  --dir <dir>               save: cluster directory (as for 'keel cluster'; env KEEL_CLUSTER_DIR);
                            restore: the new cluster's directory (required)
  -n, --members <n>         restore: members of the new cluster (default 3, at most ${MAX_MEMBERS})
  --base-port <p>           restore: ports of the new cluster (as for 'keel cluster up')
  --timeout <duration>      save: give up finding a leader after this long: 500ms, 5s, 2m
                            (default 10s; a bare number is seconds)
  --json                    one JSON document on stdout
  -h, --help                this help

Exit codes: 0 ok, 1 failure (a corrupt or foreign file, a refusal, no leader), 2 usage error,
            4 no cluster running.`;

/** The flags of `keel snapshot` subcommands (exported for shell completion). */
export const SNAPSHOT_OPTIONS = {
  'admin-endpoints': { type: 'string' },
  /** Deprecated alias of --admin-endpoints (one warning line). */
  endpoint: { type: 'string' },
  dir: { type: 'string' },
  members: { type: 'string', short: 'n' },
  'base-port': { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const SNAPSHOT_ACTIONS = ['save', 'status', 'restore'] as const;
type Action = (typeof SNAPSHOT_ACTIONS)[number];

function integer(v: string | undefined, flag: string, min: number, max: number): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SnapshotCommandError(
      `--${flag} must be an integer from ${min} to ${max}, not '${v}'`,
      ExitCode.Usage,
    );
  }
  return n;
}

export async function runSnapshotCommand(argv: readonly string[], io: Io): Promise<ExitCode> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    io.out(SNAPSHOT_HELP);
    return sub === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  let fileArg = 'the file';
  try {
    if (!(SNAPSHOT_ACTIONS as readonly string[]).includes(sub)) {
      throw new SnapshotCommandError(
        `unknown command '${sub}' (expected ${SNAPSHOT_ACTIONS.join(', ')})`,
        ExitCode.Usage,
      );
    }
    const action = sub as Action;
    let parsed: {
      values: Partial<Record<keyof typeof SNAPSHOT_OPTIONS, string | boolean>>;
      positionals: string[];
    };
    try {
      parsed = parseArgs({
        args: [...rest],
        options: SNAPSHOT_OPTIONS,
        allowPositionals: true,
        strict: true,
      });
    } catch (err) {
      throw new SnapshotCommandError(
        (err as Error).message.replace(/\. To specify a positional.*$/s, ''),
        ExitCode.Usage,
      );
    }
    const { values, positionals } = parsed;
    if (values.help === true) {
      io.out(SNAPSHOT_HELP);
      return ExitCode.Ok;
    }
    if (positionals.length !== 1)
      throw new SnapshotCommandError(`'${action}' takes one <file>`, ExitCode.Usage);
    fileArg = positionals[0]!;
    const str = (k: keyof typeof SNAPSHOT_OPTIONS): string | undefined =>
      typeof values[k] === 'string' ? (values[k] as string) : undefined;
    if (action !== 'restore' && (values.members !== undefined || values['base-port'] !== undefined)) {
      throw new SnapshotCommandError(`-n/--members and --base-port belong to 'restore'`, ExitCode.Usage);
    }
    if (
      action !== 'save' &&
      (values['admin-endpoints'] !== undefined ||
        values.endpoint !== undefined ||
        values.timeout !== undefined)
    ) {
      throw new SnapshotCommandError(`--admin-endpoints and --timeout belong to 'save'`, ExitCode.Usage);
    }
    const cwd = io.cwd ?? process.cwd();
    const timeout = parseDuration(str('timeout') ?? '10s', '--timeout', { minMs: 1, maxMs: 3_600_000 });
    if (!timeout.ok) throw new SnapshotCommandError(timeout.message, ExitCode.Usage);
    const dir = str('dir');
    const args: SnapshotArgs = {
      io,
      file: resolve(cwd, positionals[0]!),
      shown: positionals[0]!,
      dir: dir === undefined ? null : resolve(cwd, dir),
      admin: { dir: values.dir, 'admin-endpoints': values['admin-endpoints'], endpoint: values.endpoint },
      timeoutMs: timeout.ms,
      members: integer(str('members'), 'members', 1, MAX_MEMBERS),
      basePort: integer(str('base-port'), 'base-port', 1024, 65535),
      json: values.json === true,
    };
    if (action === 'save') return await save(args);
    if (action === 'status') return await status(args);
    return await restore(args);
  } catch (err) {
    const where = `keel snapshot ${sub}`;
    if (err instanceof SnapshotCommandError) {
      io.err(
        `${where}: ${err.message}${err.exitCode === ExitCode.Usage ? "; run 'keel snapshot --help'" : ''}`,
      );
      return err.exitCode;
    }
    if (err instanceof BackupFileError) {
      io.err(`${where}: ${fileArg} is not a usable backup: ${err.message}`);
      return ExitCode.Failure;
    }
    if (err instanceof ClusterFileError) {
      io.err(`${where}: ${err.message}`);
      return ExitCode.Failure;
    }
    throw err;
  }
}
