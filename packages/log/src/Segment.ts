/** One segment file as the WAL tracks it while open (recovered, or started by a rotation). */
export interface Segment {
  readonly seq: number;
  readonly firstIndex: number;
  readonly path: string;
  /** The salt its records carry (format.ts). */
  readonly salt: number;
  /** Bytes of the file known to be allocated (preallocated, recycled or recovered length). */
  allocated: number;
  /** Read-write descriptor of the tail (and of segments written by this process), or null. */
  fd: number | null;
  /** `fd` was opened with O_DSYNC: a write to it returns once durable (no fdatasync follows). */
  dsync: boolean;
  /** Read-only descriptor opened lazily for cold reads of older segments. */
  readFd: number | null;
  /** End of everything encoded for this segment, written or still pending. */
  writeOffset: number;
  /** Offset after the segment's base records: a segment with nothing beyond it is never rotated. */
  entriesStart: number;
  /** End of what write() has put in the file. */
  writtenBytes: number;
  syncedBytes: number;
  nameDurable: boolean;
  sealed: boolean;
}
