import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KvClient,
  type KvClientOptions,
  KvStateMachine,
  type KvStateMachineOptions,
  kvService,
} from '@keel/kv';
import { freePorts } from '@keel/ops';
import { type MemberHandle, type PeerAddress, startMember } from '@keel/server';
import { ClientConnection } from '@keel/transport-zmq';

/** KV members in this process (what `keel node` runs), for tests that stop one and look inside. */
export interface InProcessCluster {
  readonly members: MemberHandle[];
  readonly stores: KvStateMachine[];
  /** Client endpoints (`host:port`), in member order. */
  readonly endpoints: string[];
  /** A client of the given members (default: all). */
  client(only?: readonly number[], options?: Partial<KvClientOptions>): KvClient;
  close(): Promise<void>;
}

export async function startInProcessCluster(
  n: number,
  machine: KvStateMachineOptions = {},
): Promise<InProcessCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-inproc-'));
  const ports = await freePorts(n * 2);
  const ids = Array.from({ length: n }, (_, i) => `m${i + 1}`);
  const peers: PeerAddress[] = ids.map((id, i) => ({ id, host: '127.0.0.1', port: ports[i * 2]! }));
  const clients: PeerAddress[] = ids.map((id, i) => ({ id, host: '127.0.0.1', port: ports[i * 2 + 1]! }));
  const stores = ids.map(() => new KvStateMachine(machine));
  const members = await Promise.all(
    ids.map((id, i) =>
      startMember({
        id,
        dataDir: join(dir, id),
        peers,
        clients,
        stateMachine: stores[i]!,
        service: kvService,
        electionTimeoutMs: 300,
      }),
    ),
  );
  const endpoints = clients.map((c) => `${c.host}:${c.port}`);
  const opened: KvClient[] = [];
  return {
    members,
    stores,
    endpoints,
    client(only = ids.map((_, i) => i), options = {}) {
      const c = new KvClient({
        endpoints: only.map((i) => endpoints[i]!),
        members: new Map(only.map((i) => [ids[i]!, endpoints[i]!])),
        connect: (a) => new ClientConnection({ address: `tcp://${a}` }),
        ...options,
      });
      opened.push(c);
      return c;
    },
    async close() {
      await Promise.allSettled(opened.map((c) => c.close()));
      await Promise.allSettled(members.map((m) => m.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
