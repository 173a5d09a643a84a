import type { WalMetrics } from '@keel/log';
import type { Counter, Histogram, Registry } from 'prom-client';
import { counter, histogram, mirror } from './metricKit.js';

/** Fsync-scale buckets (50 µs to 1 s): a local NVMe syncs in tens of µs, a loaded disk in ms. */
const SYNC_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1];
/** Apply-scale buckets (1 µs to 100 ms): an in-memory state machine applies in µs. */
const APPLY_BUCKETS = [0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.001, 0.01, 0.1];

/** The WAL and the state machine's apply: the member's storage path. */
export class DiskMetrics {
  readonly walFsyncDuration: Histogram;
  readonly appendDurable: Histogram;
  readonly applyDuration: Histogram;
  readonly walWriteBytes: Counter;
  readonly walEntries: Counter;

  constructor(r: Registry) {
    this.walFsyncDuration = histogram(
      r,
      'keel_disk_wal_fsync_duration_seconds',
      'Duration of each fdatasync of a WAL segment, the call alone (its _count is the number of fsyncs)',
      SYNC_BUCKETS,
    );
    this.appendDurable = histogram(
      r,
      'keel_wal_append_durable_seconds',
      'WAL append to durable (fsync), batching included',
      SYNC_BUCKETS,
    );
    this.applyDuration = histogram(
      r,
      'keel_server_apply_duration_seconds',
      'Time the state machine took to apply one committed entry, one apply in 16 sampled (the in-memory equivalent of etcd_disk_backend_commit_duration_seconds)',
      APPLY_BUCKETS,
    );
    this.walWriteBytes = counter(
      r,
      'keel_disk_wal_write_bytes_total',
      'Bytes written to WAL segments, headers and padding included',
    );
    this.walEntries = counter(r, 'keel_disk_wal_entries_total', 'Log entries made durable in the WAL');
  }

  /** Mirrors the WAL's running counts (at scrape time). */
  refresh(w: WalMetrics): void {
    mirror(this.walWriteBytes, w.bytesWritten);
    mirror(this.walEntries, w.entriesDurable);
  }
}
