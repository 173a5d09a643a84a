import { KeelError } from '@keel/core';

/** Stable codes for every way the WAL refuses or stops. Callers match on these, never on messages. */
export const WalErrorCode = {
  /** A record or header failed its checksum (or is malformed) somewhere other than a torn tail. */
  Corrupt: 'KEEL_WAL_CORRUPT',
  /** fdatasync/fsync failed: the store is stopped; nothing after the last durable point is trusted. */
  FsyncFailed: 'KEEL_WAL_FSYNC_FAILED',
  /** A write failed (other than disk full): the store is stopped. */
  WriteFailed: 'KEEL_WAL_WRITE_FAILED',
  /** ENOSPC/EDQUOT while writing or preallocating: the store is stopped; what was durable stays so. */
  DiskFull: 'KEEL_WAL_DISK_FULL',
  /** The store was closed, or stopped by an earlier failure. */
  Closed: 'KEEL_WAL_CLOSED',
  /** A call broke the LogStore contract (gap in indexes, read outside bounds). */
  InvalidArgument: 'KEEL_WAL_INVALID_ARGUMENT',
  /** Another process (or another open store in this process) holds the directory's lock. */
  Locked: 'KEEL_WAL_LOCKED',
  /** The directory holds a format version this code does not read. */
  UnsupportedVersion: 'KEEL_WAL_UNSUPPORTED_VERSION',
} as const;
export type WalErrorCode = (typeof WalErrorCode)[keyof typeof WalErrorCode];

export class WalError extends KeelError {
  override readonly name = 'WalError';
  /** The file the error is about, when there is one. */
  readonly file: string | undefined;
  /** Byte offset in `file`, when known. */
  readonly offset: number | undefined;

  constructor(
    code: WalErrorCode,
    message: string,
    options: { cause?: unknown; file?: string; offset?: number } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.file = options.file;
    this.offset = options.offset;
  }
}

export function corrupt(file: string, offset: number, what: string): WalError {
  return new WalError(WalErrorCode.Corrupt, `corrupt WAL: ${what} in ${file} at offset ${offset}`, {
    file,
    offset,
  });
}

/** Stable codes for the snapshot files (FileSnapshotStore). */
export const SnapshotErrorCode = {
  /** A snapshot file failed its checksum or is malformed. */
  Corrupt: 'KEEL_SNAPSHOT_CORRUPT',
  /** A snapshot file of a format version this code does not read. */
  UnsupportedVersion: 'KEEL_SNAPSHOT_UNSUPPORTED_VERSION',
  /** Writing, syncing or renaming a snapshot failed: fatal for the member, like a failed fsync. */
  WriteFailed: 'KEEL_SNAPSHOT_WRITE_FAILED',
  /** A call broke the SnapshotStore contract (a chunk out of order, finish before the last byte). */
  InvalidArgument: 'KEEL_SNAPSHOT_INVALID_ARGUMENT',
} as const;
export type SnapshotErrorCode = (typeof SnapshotErrorCode)[keyof typeof SnapshotErrorCode];

export class SnapshotError extends KeelError {
  override readonly name = 'SnapshotError';
  /** The snapshot file the error is about, when there is one. */
  readonly file: string | undefined;

  constructor(code: SnapshotErrorCode, message: string, options: { cause?: unknown; file?: string } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.file = options.file;
  }
}
