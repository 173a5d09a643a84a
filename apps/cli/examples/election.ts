// Three (or more) processes elect a leader among themselves through a Keel cluster.
// Start a cluster (`pnpm keel cluster up`), then in three terminals:
//   pnpm --filter @keel/cli exec tsx --conditions=source examples/election.ts alice
//   pnpm --filter @keel/cli exec tsx --conditions=source examples/election.ts bob
//   pnpm --filter @keel/cli exec tsx --conditions=source examples/election.ts carol
// One says it leads; all three print who leads. Stop the leader with Ctrl-C (it resigns: the next
// in line leads at once) or kill it (its lease expires after 3 s, then the next one leads).
// KEEL_ENDPOINTS overrides the members (default: the ports `keel cluster up` uses).
import { Election, KvClient } from '@keel/kv';
import { ClientConnection } from '@keel/transport-zmq';

const name = process.argv[2] ?? `worker-${process.pid}`;
const endpoints = (process.env.KEEL_ENDPOINTS ?? '127.0.0.1:7201,127.0.0.1:7202,127.0.0.1:7203').split(',');
const client = new KvClient({ endpoints, connect: (a) => new ClientConnection({ address: `tcp://${a}` }) });
const election = new Election(client, 'examples/leader', { ttlSeconds: 3 });
const stop = new AbortController();
for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => stop.abort());
const text = (b: Uint8Array) => new TextDecoder().decode(b);

// Everyone follows who leads (observers need not campaign).
const watching = (async () => {
  for await (const leader of election.observe({ signal: stop.signal })) {
    console.log(
      `${name}: leader is ${leader === null ? 'nobody' : `${text(leader.value)} (revision ${leader.revision})`}`,
    );
  }
})();

try {
  const leadership = await election.campaign(name, { signal: stop.signal });
  console.log(`${name}: I lead (revision ${leadership.revision})`);
  // Lead until asked to stop, or until the lease is lost (then someone else may lead already).
  const done = AbortSignal.any([stop.signal, leadership.signal]);
  await new Promise((resolve) => done.addEventListener('abort', resolve, { once: true }));
  if (leadership.signal.aborted) console.log(`${name}: lost the lead`);
  await leadership.resign();
} catch (err) {
  if (!stop.signal.aborted) throw err;
}
stop.abort();
await watching.catch(() => undefined);
await client.close();
