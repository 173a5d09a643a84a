/**
 * A replicated counter, served by three Keel members in one process: the "embed Keel" example of
 * the README. Run it from packages/server with
 *   node --conditions=source --import tsx examples/counter.ts
 * It starts the members on free 127.0.0.1 ports with temporary data dirs, adds through the client
 * port, reads back linearizably, and stops everything.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry, RequestService, StateMachine } from '@keel/core';
import { type MemberHandle, type PeerAddress, startMember } from '@keel/server';
import { ClientConnection } from '@keel/transport-zmq';

const utf8 = new TextEncoder();
const text = new TextDecoder();
const json = (value: unknown): Uint8Array => utf8.encode(JSON.stringify(value));

/** The replicated state: one number. Every member applies the same entries in the same order. */
export class Counter implements StateMachine<number> {
  value = 0;

  /** A committed entry carries the amount to add, as text; the result is the new value. */
  apply(entry: Entry): number {
    this.value += Number(text.decode(entry.data));
    return this.value;
  }

  snapshot(): Uint8Array {
    return utf8.encode(String(this.value));
  }

  restore(data: Uint8Array): void {
    this.value = Number(text.decode(data));
  }
}

/** A client request: `{"add": n}` (a write) or `{"read": true}` (a linearizable read). */
export type CounterRequest = { readonly add: number } | { readonly read: true };
/** The reply: the value, or the member's error with the leader it knows. */
export type CounterReply =
  | { readonly value: number }
  | { readonly error: string; readonly message: string; readonly leader: string | null };

/** The counter's client protocol: JSON requests and replies. */
export const counterService: RequestService<Counter, number> = {
  decode(payload) {
    let req: Partial<{ add: unknown; read: unknown }>;
    try {
      req = JSON.parse(text.decode(payload)) as Partial<{ add: unknown; read: unknown }>;
    } catch {
      return { kind: 'reject', label: 'malformed', code: 'bad-request', message: 'the request is not JSON' };
    }
    const add = req.add;
    if (typeof add === 'number' && Number.isSafeInteger(add)) {
      return { kind: 'write', label: 'add', command: () => utf8.encode(String(add)) };
    }
    if (req.read === true) {
      return { kind: 'read', label: 'read', consistency: 'linearizable', run: (counter) => counter.value };
    }
    return {
      kind: 'reject',
      label: 'unknown',
      code: 'unsupported',
      message: 'expected {"add": n} or {"read": true}',
    };
  },
  encodeResult: (value) => json({ value }),
  encodeError: (e) => json({ error: e.code, message: e.message, leader: e.leaderHint }),
};

/** A port the OS says is free now (the member binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Three members of a counter cluster on 127.0.0.1, with a client that follows leader hints. */
export async function startCounterCluster(): Promise<{
  members: MemberHandle[];
  counters: Counter[];
  call: (req: CounterRequest, first?: string) => Promise<number>;
  send: (to: string, payload: Uint8Array) => Promise<CounterReply>;
  close: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-counter-'));
  const ids = ['a', 'b', 'c'];
  const peers: PeerAddress[] = [];
  const clients: PeerAddress[] = [];
  for (const id of ids) {
    peers.push({ id, host: '127.0.0.1', port: await freePort() });
    clients.push({ id, host: '127.0.0.1', port: await freePort() });
  }
  const counters = ids.map(() => new Counter());
  const members = await Promise.all(
    ids.map((id, i) =>
      startMember({
        id,
        dataDir: join(dir, id),
        peers,
        clients,
        stateMachine: counters[i]!,
        service: counterService,
      }),
    ),
  );
  const connections = new Map(
    clients.map((c) => [c.id, new ClientConnection({ address: `tcp://${c.host}:${c.port}` })]),
  );

  const send = async (to: string, payload: Uint8Array): Promise<CounterReply> =>
    JSON.parse(text.decode(await connections.get(to)!.request(payload, { timeoutMs: 2000 }))) as CounterReply;

  /**
   * Sends a request to `first` (followers forward writes to the leader), following `not-leader`
   * hints; retries for up to 10 s while no leader is known.
   */
  const call = async (req: CounterRequest, first = 'a'): Promise<number> => {
    const deadline = Date.now() + 10_000;
    let to = first;
    for (;;) {
      const reply = await send(to, json(req));
      if ('value' in reply) return reply.value;
      if (reply.error !== 'not-leader' || Date.now() > deadline)
        throw new Error(`${reply.error}: ${reply.message}`);
      if (reply.leader !== null) to = reply.leader;
      else await new Promise((r) => setTimeout(r, 20)); // no leader yet: an election is under way
    }
  };

  const close = async (): Promise<void> => {
    await Promise.all([...connections.values()].map((c) => c.close()));
    await Promise.all(members.map((m) => m.close()));
    await rm(dir, { recursive: true, force: true });
  };
  return { members, counters, call, send, close };
}

/** The example: add 1 to 5 through the client port, then read the sum back. */
export async function main(): Promise<number> {
  const cluster = await startCounterCluster();
  try {
    for (let n = 1; n <= 5; n++) await cluster.call({ add: n });
    return await cluster.call({ read: true });
  } finally {
    await cluster.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1])) {
  main().then(
    (value) => console.log(`counter = ${value}`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
