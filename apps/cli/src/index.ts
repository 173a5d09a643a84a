export type { Io } from './cli.js';
export { ExitCode, HELP, runCli, VERSION } from './cli.js';
