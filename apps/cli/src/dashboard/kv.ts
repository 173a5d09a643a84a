import type { DashboardKv } from '@keel/dashboard';
import { KvClient } from '@keel/kv';
import { ClientConnection } from '@keel/transport-zmq';
import { clientCurve } from '../commands/kv/curve.js';
import { target } from '../commands/kv/target.js';
import type { Io } from '../io.js';

/**
 * A KV client for the dashboard's write load and console, aimed like `keel put --dir <dir>`: the
 * live members of the cluster file (CURVE keys of a --secure cluster included). Writes carry no
 * session (one log entry each, as the CLI's one-shot writes).
 */
export function openClusterKv(dir: string, io: Io): DashboardKv {
  const values = { dir };
  const t = target(values, io);
  const curve = clientCurve(values, io, t.members);
  return new KvClient({
    endpoints: t.endpoints,
    members: t.members,
    connect: (a) =>
      new ClientConnection({ address: `tcp://${a}`, ...(curve === null ? {} : { curve: curve(a) }) }),
    timeoutMs: 5000,
    attemptTimeoutMs: 1000,
    session: false,
  });
}
