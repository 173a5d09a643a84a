/** `keel dashboard`: serve the web dashboard of a cluster already running (started with `--detach`, or elsewhere). */
import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { readClusterFile } from '../cluster/ClusterFile.js';
import { useClusterAdminToken } from '../cluster/keys.js';
import { defaultClusterDir } from '../cluster/paths.js';
import { ExitCode, type Io } from '../io.js';

export const DASHBOARD_HELP = `keel dashboard — the live web dashboard of a running local cluster

Usage: keel dashboard [--dir <dir>] [--port <p>]

Serves the page on 127.0.0.1 until Ctrl-C (the cluster keeps running): member cards with kill,
stop, restart, pause/resume, make-leader and remove buttons, the leader's replication, a timeline,
a write load with its writes/s and latency chart, and put/get. 'keel cluster up' serves the same
page for the cluster it runs in the foreground.

Options:
  --dir <dir>     cluster directory (as for 'keel cluster'; env KEEL_CLUSTER_DIR)
  --port <p>      port to listen on (default 0: any free port)
  -h, --help      this help

Exit codes: 0 stopped by Ctrl-C, 1 failure, 2 usage error, 4 no cluster in the directory.`;

export const DASHBOARD_OPTIONS = {
  dir: { type: 'string' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export async function runDashboardCommand(argv: readonly string[], io: Io): Promise<ExitCode> {
  let values: { dir?: string; port?: string; help?: boolean };
  try {
    values = parseArgs({
      args: [...argv],
      options: DASHBOARD_OPTIONS,
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    io.err(`keel dashboard: ${(err as Error).message}; run 'keel dashboard --help'`);
    return ExitCode.Usage;
  }
  if (values.help === true) {
    io.out(DASHBOARD_HELP);
    return ExitCode.Ok;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '0') || port > 65535) {
    io.err(`keel dashboard: --port must be an integer from 0 to 65535, got '${values.port}'`);
    return ExitCode.Usage;
  }
  const cwd = io.cwd ?? process.cwd();
  const env = io.env ?? process.env;
  const dir = values.dir !== undefined ? resolve(cwd, values.dir) : defaultClusterDir(cwd, env);
  if (readClusterFile(dir) === null) {
    io.err(`keel dashboard: no cluster in ${dir}; start one with 'keel cluster up --detach'`);
    return ExitCode.NoCluster;
  }
  const tokenProblem = useClusterAdminToken(dir, env);
  if (tokenProblem !== null) {
    io.err(`keel dashboard: ${tokenProblem}`);
    return ExitCode.Failure;
  }
  const { startClusterDashboard } = await import('../dashboard/start.js');
  let dashboard: Awaited<ReturnType<typeof startClusterDashboard>>;
  try {
    dashboard = await startClusterDashboard({ dir, io, port });
  } catch (err) {
    io.err(`keel dashboard: cannot listen on port ${port}: ${(err as Error).message}`);
    return ExitCode.Failure;
  }
  io.out(
    `dashboard of the cluster in ${dir}: ${dashboard.url}  (Ctrl-C stops the dashboard, not the cluster)`,
  );
  const stop = io.stop;
  if (stop !== undefined && !stop.aborted) {
    await new Promise<void>((r) => stop.addEventListener('abort', () => r(), { once: true }));
  }
  await dashboard.close();
  return ExitCode.Ok;
}
