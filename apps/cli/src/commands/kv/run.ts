import { KvClient, KvClientError } from '@keel/kv';
import { ClientConnection } from '@keel/transport-zmq';
import { ClusterFileError } from '../../cluster/ClusterFile.js';
import { ExitCode, type Io } from '../../io.js';
import { cas } from './cas.js';
import { clientCurve } from './curve.js';
import { del } from './del.js';
import { CommandError } from './errors.js';
import { get } from './get.js';
import { KV_HELP } from './help.js';
import { incr } from './incr.js';
import { keygen } from './keygen.js';
import { lease } from './lease.js';
import { type KvCommandName, type Parsed, parse, type Values } from './options.js';
import { put } from './put.js';
import { scan } from './scan.js';
import { type Target, target as targetOf, timeoutMs } from './target.js';
import { txn } from './txn.js';
import { watch } from './watch.js';

type Run = (kv: KvClient, p: Parsed, io: Io) => Promise<ExitCode>;
const COMMANDS: Record<Exclude<KvCommandName, 'keygen'>, Run> = {
  put,
  get,
  del,
  cas,
  incr,
  scan,
  watch,
  txn,
  lease,
};

/**
 * Writes whose second application would differ from one: without a session they are sent again
 * only while they certainly have not run (KvClient `retryUnknownWrites: false`).
 */
function atMostOnce(name: KvCommandName, values: Values): boolean {
  return (
    name === 'cas' ||
    name === 'incr' ||
    name === 'txn' ||
    (name === 'del' && typeof values.prefix === 'string')
  );
}

export async function runKvCommand(name: KvCommandName, argv: readonly string[], io: Io): Promise<ExitCode> {
  try {
    const parsed = parse(name, argv);
    const { values } = parsed;
    if (values.help === true) {
      io.out(KV_HELP);
      return ExitCode.Ok;
    }
    if (name === 'keygen') return keygen(parsed, io);
    const timeout = timeoutMs(values);
    const target = targetOf(values, io);
    const curve = clientCurve(values, io, target.members);
    const session = values.session === true;
    const once = !session && atMostOnce(name, values);
    // One log entry per write: a session (register, write, close) would make it three.
    const kv = new KvClient({
      endpoints: target.endpoints,
      members: target.members,
      connect: (a) =>
        new ClientConnection({ address: `tcp://${a}`, ...(curve === null ? {} : { curve: curve(a) }) }),
      timeoutMs: timeout,
      // An at-most-once write gets the whole deadline: giving up on a slow answer would leave
      // its outcome unknown.
      attemptTimeoutMs: once ? timeout : Math.min(1000, timeout),
      session,
      retryUnknownWrites: !once,
    });
    try {
      return await COMMANDS[name](kv, parsed, io);
    } catch (err) {
      if (err instanceof KvClientError) throw fromClientError(err, target);
      throw err;
    } finally {
      await kv.close();
    }
  } catch (err) {
    if (err instanceof CommandError) {
      const help = err.exitCode === ExitCode.Usage ? `; run 'keel ${name} --help'` : '';
      io.err(`keel ${name}: ${err.message}${help}`);
      return err.exitCode;
    }
    if (err instanceof ClusterFileError) {
      io.err(`keel ${name}: ${err.message}`);
      return ExitCode.Failure;
    }
    throw err;
  }
}

function fromClientError(err: KvClientError, target: Target): CommandError {
  const unreachable = err.code === 'KEEL_CLIENT_UNAVAILABLE' || err.code === 'KEEL_CLIENT_TIMEOUT';
  const hint = !unreachable
    ? err.oldestRevision !== undefined
      ? `; start at --rev ${err.oldestRevision} or later`
      : ''
    : target.statusHint !== null
      ? `; is the cluster running? see '${target.statusHint}'`
      : `; is the cluster running at ${target.endpoints.join(',')}?`;
  const code =
    err.code === 'KEEL_CLIENT_BAD_REQUEST'
      ? ExitCode.Usage
      : err.outcome === 'unknown'
        ? ExitCode.OutcomeUnknown
        : ExitCode.Failure;
  return new CommandError(`${err.message} [${err.code}]${hint}`, code);
}
