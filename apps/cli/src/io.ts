/** Exit codes of `keel`, documented in its README and `--help`. */
export const ExitCode = {
  Ok: 0,
  /** The command ran but the outcome is bad: no leader, a member failed to start, ports busy. */
  Failure: 1,
  Usage: 2,
  NotAvailable: 3,
  /** No cluster is running in the cluster directory. */
  NoCluster: 4,
  /**
   * A one-shot `cas` or `incr` (no session) reached a member and its answer was lost: it may or may
   * not have been applied, and it was not retried (a retry could apply it twice).
   */
  OutcomeUnknown: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Everything a command may touch of its surroundings, so `runCli` runs the same in a test as in a
 * terminal. Only `out` and `err` are required; the rest default to the current process.
 */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Raw text to stdout (no newline added), for the live view's in-place redraw on a TTY. */
  write?(text: string): void;
  /** Raw bytes to stdout (no newline added): values that are not UTF-8 text. Default: `out` of their UTF-8 decoding. */
  writeBytes?(bytes: Uint8Array): void;
  /** Standard input, read by `keel put <key> -`. Default: the process's stdin. */
  readonly stdin?: AsyncIterable<Uint8Array>;
  /** True when stdout is a terminal: tables and the redrawn view instead of line-per-change. */
  readonly isTTY?: boolean;
  /** Terminal width, when stdout is a terminal. */
  readonly columns?: number;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Aborted on the first Ctrl-C or SIGTERM: long-running commands finish in order, then return. */
  readonly stop?: AbortSignal;
  /** Told about every member process this invocation starts (tests kill them by PID afterwards). */
  onSpawn?(pid: number): void;
}
