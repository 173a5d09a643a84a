import type { WalMetrics } from './types.js';

/** The WAL's running counts, kept by the pieces that do the counted work and read as WalMetrics. */
export interface Counters {
  fsyncs: number;
  dirSyncs: number;
  commits: number;
  bytesWritten: number;
  entriesDurable: number;
  appendsDurable: number;
  recycled: number;
  zeroFilled: number;
}

export function newCounters(): Counters {
  return {
    fsyncs: 0,
    dirSyncs: 0,
    commits: 0,
    bytesWritten: 0,
    entriesDurable: 0,
    appendsDurable: 0,
    recycled: 0,
    zeroFilled: 0,
  };
}

export function metricsOf(c: Counters): WalMetrics {
  return {
    fsyncs: c.fsyncs,
    dirSyncs: c.dirSyncs,
    commits: c.commits,
    bytesWritten: c.bytesWritten,
    entriesDurable: c.entriesDurable,
    appendsDurable: c.appendsDurable,
    entriesPerFsync: c.fsyncs === 0 ? 0 : c.entriesDurable / c.fsyncs,
    segmentsRecycled: c.recycled,
    segmentsZeroFilled: c.zeroFilled,
  };
}
