import { ExitCode, type Io } from '../../io.js';
import type { AdminValues } from '../../options/adminEndpoints.js';

/** A snapshot command's failure: one line for the user and the exit code. */
export class SnapshotCommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.Failure,
  ) {
    super(message);
  }
}

/** What every `keel snapshot` subcommand gets, parsed. */
export interface SnapshotArgs {
  readonly io: Io;
  /** The backup file, resolved against the working directory. */
  readonly file: string;
  /** The file as the user named it, for messages. */
  readonly shown: string;
  /** `--dir`, resolved; null when not given. */
  readonly dir: string | null;
  /** save: where the members' admin API is (flags as given; see options/adminEndpoints.ts). */
  readonly admin: AdminValues;
  readonly timeoutMs: number;
  readonly members: number | null;
  readonly basePort: number | null;
  readonly json: boolean;
}

/** `n` bytes as B, KiB, MiB or GiB. */
export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}
