import { KV_COMMAND_NAMES, type KvCommandName } from './commands/names.js';
import { ExitCode, type Io } from './io.js';
import { loadTool, MissingToolError } from './optionalTool.js';
import { cliVersion, versionLines } from './version.js';

export type { Io } from './io.js';
export { ExitCode } from './io.js';

/** The version in apps/cli/package.json (`keel --version` adds the build facts). */
export const VERSION: string = cliVersion();

export const HELP = `keel — run, use and measure Keel clusters

Usage: keel <command> [options]

Commands:
  cluster up|down|status|kill|stop|restart|pause|resume|logs   local multi-process clusters
                                                           (keel cluster --help)
  put|get|del|cas|incr|scan|watch|txn                     read, write and watch keys (keel get --help)
  members list|add|promote|remove                         a cluster's voters and learners
                                                          (keel members --help)
  leader move <id>                                        hand leadership to a voter (keel leader --help)
  dashboard [--dir D] [--port P]                          the web dashboard of a running cluster
                                                          (keel dashboard --help)
  snapshot save|status|restore                            backups, and new clusters from one
                                                          (keel snapshot --help)
  bench write|read|mixed|txn|watch|election               measure a cluster (keel bench --help)
  node                                                    run one member here (keel node --help)
  chaos [--nodes 3|5] [--duration 60s] [--faults ...]    break a real cluster and judge it
        [--seed S] [--netns] [--json f] [--html f]        (keel chaos --help)
  keygen                                                  CURVE key pair for a member or client
  completion bash|zsh|fish                                a shell completion script
                                                          (keel completion --help)

Options:
  -h, --help      this help
  -v, --version   the version, the commit it was built from and the Node.js running it

Environment: KEEL_ENDPOINTS (client endpoints, as --endpoints), KEEL_CLUSTER_DIR (as --dir),
KEEL_ADMIN_ENDPOINTS (members' HTTP admin addresses, as --admin-endpoints). A flag wins.
Durations (--timeout, --catch-up): 500ms, 5s, 2m, 1m30s; a bare number is seconds.

Exit codes: 0 ok, 1 failure (get: a missing key), 2 usage error, 3 not available in this build,
            4 no cluster running in the cluster directory, 5 a write's outcome is unknown.`;

/**
 * Runs one CLI invocation and returns its exit code. User mistakes get one line, never a stack.
 * Each command's module is loaded when it runs, so `keel --version` and `keel --help` load none.
 */
export async function runCli(argv: readonly string[], io: Io): Promise<ExitCode> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    io.out(HELP);
    return command === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  if (command === '-v' || command === '--version') {
    for (const line of versionLines()) io.out(line);
    return ExitCode.Ok;
  }
  if (command === 'cluster') return (await import('./commands/cluster.js')).runClusterCommand(rest, io);
  if (command === 'members') return (await import('./commands/members.js')).runMembersCommand(rest, io);
  if (command === 'leader') return (await import('./commands/leader.js')).runLeaderCommand(rest, io);
  if (command === 'dashboard') return (await import('./commands/dashboard.js')).runDashboardCommand(rest, io);
  if (command === 'snapshot') return (await import('./commands/snapshot.js')).runSnapshotCommand(rest, io);
  if ((KV_COMMAND_NAMES as readonly string[]).includes(command)) {
    const { runKvCommand } = await import('./commands/kv/run.js');
    return runKvCommand(command as KvCommandName, rest, io);
  }
  if (command === 'completion') {
    return (await import('./commands/completion.js')).runCompletionCommand(rest, io);
  }
  if (command === 'bench') return runBench(rest, io);
  if (command === 'chaos') return runChaos(rest, io);
  if (command === 'node') return runMember(rest);
  io.err(`keel: unknown command '${command}'; run 'keel --help' for the list`);
  return ExitCode.Usage;
}

/** `keel bench ...`: the cluster benchmarks of tools/bench. Ctrl-C stops the processes it started. */
async function runBench(argv: readonly string[], io: Io): Promise<ExitCode> {
  const tool = await loadTool('@keel/bench', 'bench', () => import('@keel/bench')).catch(missing(io));
  if (tool === undefined) return ExitCode.NotAvailable;
  const { runBenchCli } = tool;
  const onSignal = (): void => {
    io.err('keel bench: interrupted; stopping the processes it started');
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const code = await runBenchCli(argv, {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
      isTTY: process.stderr.isTTY === true,
    });
    return code as ExitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * `keel chaos ...`: fault injection judged by a linearizability checker (tools/chaos). Ctrl-C stops
 * the members it started (by PID) and removes any network namespaces it created.
 */
async function runChaos(argv: readonly string[], io: Io): Promise<ExitCode> {
  const tool = await loadTool('@keel/chaos', 'chaos', () => import('@keel/chaos')).catch(missing(io));
  if (tool === undefined) return ExitCode.NotAvailable;
  const { runChaosCli } = tool;
  const onSignal = (): void => {
    io.err('keel chaos: interrupted; stopping the processes it started');
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const code = await runChaosCli(argv, {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
    });
    return code as ExitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Reports a missing optional tool package (and rethrows anything else). */
function missing(io: Io): (error: unknown) => undefined {
  return (error) => {
    if (!(error instanceof MissingToolError)) throw error;
    io.err(`keel: ${error.message}`);
    return undefined;
  };
}

/** `keel node ...`: run one cluster member in this process (same flags as apps/node). */
async function runMember(argv: readonly string[]): Promise<ExitCode> {
  const { runNode } = await import('@keel/node/main');
  return (await runNode(argv)) as ExitCode;
}
