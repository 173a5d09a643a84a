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
export type { Endpoint, RaftView } from './member.js';
export type { BenchReport } from './report.js';
export { htmlReport, jsonReport, REPORT_SCHEMA_VERSION, textReport } from './report.js';
export type { Progress, StepResult, Target, ThroughputOptions, ThroughputReport } from './throughput.js';
export { DEFAULT_THROUGHPUT, LoadMode, runThroughput } from './throughput.js';
