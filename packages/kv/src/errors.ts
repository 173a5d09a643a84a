import { KeelError } from '@keel/core';

/** Stable codes of the errors this package throws (expected outcomes are returned as results). */
export const KvErrorCode = {
  /** Snapshot bytes that are not a snapshot this build can restore; the store is left unchanged. */
  SnapshotCorrupt: 'KEEL_KV_SNAPSHOT_CORRUPT',
} as const;
export type KvErrorCode = (typeof KvErrorCode)[keyof typeof KvErrorCode];

/** Why a snapshot was rejected. */
export const SnapshotErrorReason = {
  /** Shorter than a header and a checksum, or ends inside a field. */
  Truncated: 'truncated',
  /** The first bytes are not the snapshot magic. */
  Magic: 'magic',
  /** A format version this build does not read. */
  Version: 'version',
  /** The stored CRC-32 does not match the bytes. */
  Checksum: 'checksum',
  /** The checksum matches but the content breaks the format's rules (order, limits, counts). */
  Malformed: 'malformed',
} as const;
export type SnapshotErrorReason = (typeof SnapshotErrorReason)[keyof typeof SnapshotErrorReason];

export class SnapshotError extends KeelError {
  override readonly name = 'SnapshotError';
  readonly reason: SnapshotErrorReason;

  constructor(reason: SnapshotErrorReason, message: string, options?: { cause?: unknown }) {
    super(KvErrorCode.SnapshotCorrupt, message, options);
    this.reason = reason;
  }
}
