// The leases example of packages/kv/README.md, runnable against a local cluster:
//   pnpm keel cluster up --detach
//   pnpm --filter @keel/cli exec tsx --conditions=source examples/lease.ts [host:port,...]
// A service registers itself under a 2 s lease and keeps it alive; when it stops renewing, the
// key disappears and a watcher sees the delete.
import { KvClient, KvClientError } from '@keel/kv';
import { ClientConnection } from '@keel/transport-zmq';

const endpoints = (process.argv[2] ?? '127.0.0.1:7201,127.0.0.1:7202,127.0.0.1:7203').split(',');
const kv = new KvClient({ endpoints, connect: (a) => new ClientConnection({ address: `tcp://${a}` }) });
try {
  const { id, ttlSeconds } = await kv.grantLease(2);
  console.log(`lease ${id}, ${ttlSeconds} s`);
  const put = await kv.put('services/web-1', '10.0.0.7:8080', { lease: id });
  const ka = kv.keepAlive(id); // renews every ttl/3 until closed
  void ka.expired.then(() => console.log('lease lost'));
  const ac = new AbortController();
  const watching = (async () => {
    for await (const batch of kv.watch('services/', {
      prefix: true,
      fromRevision: put.revision + 1,
      signal: ac.signal,
    })) {
      for (const e of batch.events) console.log('watch:', e.type, new TextDecoder().decode(e.kv.key));
      if (batch.events.some((e) => e.type === 'delete')) return;
    }
  })();
  let renewals = 0;
  for await (const g of ka) {
    console.log(`renewed for ${g.ttlSeconds} s`);
    if (++renewals === 4) break; // about 2 TTLs; breaking out closes the keep-alive
  }
  const ttl = await kv.leaseTimeToLive(id, { keys: true }); // the leader's view
  console.log(
    `${ttl?.remainingMs} ms left, keys:`,
    ttl?.keys?.map((k) => new TextDecoder().decode(k)),
  );
  await watching; // the leader expires the lease ~2 s after the last renewal: the key goes
  ac.abort();
  console.log('after expiry:', (await kv.get('services/web-1')).kv); // null
} catch (err) {
  if (err instanceof KvClientError) console.error(err.code, err.message);
  else throw err;
} finally {
  await kv.close();
}
