export type { ChaosClusterOptions, ChaosMember, ChaosStatus } from './cluster.js';
export { ChaosCluster } from './cluster.js';
export type { FaultEvent } from './faults.js';
export { faultsDuring } from './faults.js';
export { htmlTimeline } from './html.js';
export type { ChaosIo } from './main.js';
export { CHAOS_USAGE, ChaosExit, parseChaosArgs, parseDuration, parseFaults, runChaosCli } from './main.js';
export type { ChangeOutcome, LeaderLookup, MemberChange, MemberInfo, MembersView } from './membership.js';
export { MembershipClient } from './membership.js';
export { Nemesis } from './nemesis.js';
export { NetnsNetwork, netnsUnavailable } from './netns.js';
export type { Network } from './network.js';
export { ProxyNetwork } from './network.js';
export type { LinkCounters, LinkMode, LinkProxyOptions } from './proxy.js';
export { LinkProxy, PASS } from './proxy.js';
export { jsonReport, REPORT_SCHEMA_VERSION, reproduceCommand, textReport, verdictLine } from './report.js';
export type { ChaosOptions, ChaosProgress, ChaosRun } from './run.js';
export { DEFAULT_CHAOS, runChaos } from './run.js';
export type { FaultAction, FaultStep, PartitionShape, ScheduleOptions, Target } from './schedule.js';
export { ALL_FAULTS, buildSchedule, describeStep, FaultFamily, familyOf, maxRemoved } from './schedule.js';
export type { Link } from './topology.js';
export { allLinks, cutLinks, linkName } from './topology.js';
export type {
  ChaosVerdict,
  Convergence,
  CounterCheck,
  LostWrite,
  VerdictInput,
  ViolationReport,
} from './verdict.js';
export { checkCounter, findLostWrites, judge } from './verdict.js';
export type { PublishedSyncState, WalDamage } from './walDamage.js';
export { damageWal, readSyncState, wipeWal, writtenEnd } from './walDamage.js';
export type { WorkloadOptions } from './workload.js';
export { COUNTER_KEY, Workload } from './workload.js';
