import { KvClient, type KvClientOptions } from '@keel/kv';
import { addressList, agreedLeader as opsAgreedLeader } from '@keel/ops';
import { ClientConnection } from '@keel/transport-zmq';
import { freePorts, type Proc, startNode, status, tempDir, waitFor } from './procs.js';

export interface TestMember {
  readonly id: string;
  readonly client: string;
  readonly http: number;
  /** The host its HTTP endpoint listens on, as a URL writes it (`127.0.0.1`, `[::1]`). */
  readonly httpHost: string;
  readonly args: readonly string[];
  proc: Proc;
}

/**
 * Starts `n` `keel node` processes as one cluster on `host` (default 127.0.0.1; `[::1]` for IPv6),
 * every process tracked for killAll.
 */
export async function startCluster(
  n: number,
  host = '127.0.0.1',
  extraArgs: readonly string[] = [],
): Promise<TestMember[]> {
  const ports = await freePorts(n * 3);
  const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  const peers = addressList(ids, (_id, i) => `${host}:${ports[i * 3]}`);
  const clients = addressList(ids, (_id, i) => `${host}:${ports[i * 3 + 1]}`);
  return ids.map((id, i) => {
    const args = [
      '--id',
      id,
      '--peers',
      peers,
      '--clients',
      clients,
      '--http',
      `${host}:${ports[i * 3 + 2]}`,
      '--data-dir',
      tempDir(`keel-${id}-`),
      ...extraArgs,
    ];
    return {
      id,
      client: `${host}:${ports[i * 3 + 1]}`,
      http: ports[i * 3 + 2]!,
      httpHost: host,
      args,
      proc: startNode(args),
    };
  });
}

/** The member every live member names as leader, once they agree. */
export async function agreedLeader(members: readonly TestMember[], timeoutMs = 20_000): Promise<TestMember> {
  return waitFor(
    'a leader all live members agree on',
    async () => {
      const live = members.filter((m) => m.proc.child.exitCode === null && m.proc.child.signalCode === null);
      const seen = await Promise.all(live.map((m) => status(m.http, m.httpHost)));
      const agreed = opsAgreedLeader(seen);
      return agreed === null ? undefined : members.find((m) => m.id === agreed.leader);
    },
    timeoutMs,
  );
}

/** A KvClient over ZeroMQ to every member, with their ids (so leader hints lead straight there). */
export function kvClient(members: readonly TestMember[], options: Partial<KvClientOptions> = {}): KvClient {
  return new KvClient({
    endpoints: members.map((m) => m.client),
    members: new Map(members.map((m) => [m.id, m.client])),
    connect: (a) => new ClientConnection({ address: `tcp://${a}` }),
    ...options,
  });
}
