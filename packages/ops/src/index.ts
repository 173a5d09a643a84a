// @keel/ops: the one home of Keel's operations code, shared by the `keel` CLI, the benchmarks,
// the chaos tool and the process tests. It knows member processes from the outside only: their
// command line, PIDs, ports and admin HTTP API. It imports no other @keel package.
export { adminHeaders, adminJson, useAdminToken } from './adminClient.js';
export {
  type DurationBounds,
  type DurationResult,
  durationMs,
  formatDuration,
  parseDuration,
} from './duration.js';
export { writeFileMkdir } from './files.js';
export type { LaunchedProcess, LaunchOptions, MemberCommand } from './launch.js';
export { addressList, launchMember, memberCommand, startMemberProcess } from './launch.js';
export type { Agreement, LeaderView } from './leader.js';
export { agreedLeader, claimedLeader } from './leader.js';
export type { MemberStatus, PeerStatus } from './MemberStatus.js';
export { asMemberStatus } from './MemberStatus.js';
export type { MemberPorts } from './ports.js';
export { busyPorts, freeBasePort, freePorts, LOOPBACK, memberPorts, portFree } from './ports.js';
export { killAllStarted, killPid, stopPids, trackPid, untrackPid, waitGone } from './processes.js';
export type { ProcSample, ProcStat } from './procStat.js';
export { cpuPercent, parseProcStat, processAlive, readProcStat, sampleProc } from './procStat.js';
export { fetchMetrics, fetchStatus } from './status.js';
export { sleep, waitFor } from './wait.js';
