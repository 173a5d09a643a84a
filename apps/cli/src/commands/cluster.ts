import { ClusterFileError } from '../cluster/ClusterFile.js';
import { ExitCode, type Io } from '../io.js';
import { CommandError, type Context, parse, SUBCOMMANDS, type Subcommand } from './cluster/context.js';
import { down } from './cluster/down.js';
import { CLUSTER_HELP } from './cluster/help.js';
import { heal, isolate } from './cluster/isolation.js';
import { logs } from './cluster/logs.js';
import { kill, pause, restart, resume, stop } from './cluster/member.js';
import { addNode, removeNode } from './cluster/nodes.js';
import { status } from './cluster/status.js';
import { up } from './cluster/up.js';

/**
 * `keel cluster`: local clusters of real `keel node` processes. Each subcommand lives in
 * ./cluster/ (one idea per file); this file parses the subcommand and reports errors.
 */
export { CLUSTER_HELP } from './cluster/help.js';
export async function runClusterCommand(argv: readonly string[], io: Io): Promise<ExitCode> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    io.out(CLUSTER_HELP);
    return sub === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) {
    io.err(
      `keel cluster: unknown command '${sub}' (expected ${SUBCOMMANDS.join(', ')}); run 'keel cluster --help'`,
    );
    return ExitCode.Usage;
  }
  const name = sub as Subcommand;
  try {
    const ctx = parse(name, rest, io);
    if (ctx === 'help') {
      io.out(CLUSTER_HELP);
      return ExitCode.Ok;
    }
    return await COMMANDS[name](ctx);
  } catch (err) {
    if (err instanceof CommandError) {
      io.err(`keel cluster ${name}: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof ClusterFileError) {
      io.err(`keel cluster ${name}: ${err.message}`);
      return ExitCode.Failure;
    }
    throw err;
  }
}

const COMMANDS: Record<Subcommand, (ctx: Context) => Promise<ExitCode>> = {
  up,
  down,
  status,
  stop,
  kill,
  restart,
  pause,
  resume,
  isolate,
  heal,
  logs,
  'add-node': addNode,
  'remove-node': removeNode,
};
