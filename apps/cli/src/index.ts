export type { Io } from './cli.js';
export { ExitCode, HELP, runCli, VERSION } from './cli.js';
export type { ClusterFile, MemberRecord, MemberState } from './cluster/ClusterFile.js';
