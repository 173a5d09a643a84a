// Process and member helpers shared with tools/chaos (which runs its own proxied clusters).
export {
  alive,
  freeBasePort,
  killAllStarted,
  killPid,
  MEMBER_PROGRAM,
  trackPid,
  untrackPid,
} from './cluster.js';
export type { ElectionOptions, ElectionReport, ElectionRun, Trial } from './election.js';
export {
  DEFAULT_ELECTION,
  FAST_ELECTION_TIMEOUT_MS,
  FaultMode,
  FIGURE_16,
  memberArgsFor,
  runElection,
} from './election.js';
export type { HistogramData, LatencySummary } from './histogram.js';
export { Histogram } from './histogram.js';
export type { BenchIo } from './main.js';
export { ExitCode, runBenchCli, USAGE } from './main.js';
export type { Endpoint, MemberStatus } from './member.js';
export { fetchStatus, httpJson, sleep } from './member.js';
export type { BenchReport } from './report.js';
export { htmlReport, jsonReport, REPORT_SCHEMA_VERSION, textReport, writeFileMkdir } from './report.js';
export type { Progress, StepResult, Target, ThroughputOptions, ThroughputReport } from './throughput.js';
export { DEFAULT_THROUGHPUT, LoadMode, runThroughput } from './throughput.js';
