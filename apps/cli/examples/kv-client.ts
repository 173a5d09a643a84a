// The KvClient example of packages/kv/README.md, runnable against a local cluster:
//   pnpm keel cluster up --detach
//   pnpm --filter @keel/cli exec tsx --conditions=source examples/kv-client.ts [host:port,...]
// (It lives here because @keel/kv itself depends on no network package.)
import { KvClient, KvClientError } from '@keel/kv';
import { ClientConnection } from '@keel/transport-zmq';

const endpoints = (process.argv[2] ?? '127.0.0.1:7201,127.0.0.1:7202,127.0.0.1:7203').split(',');
const kv = new KvClient({
  endpoints,
  connect: (a) => new ClientConnection({ address: `tcp://${a}` }),
  timeoutMs: 5000,
});
const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);
try {
  console.log(await kv.put('greeting', 'hello'));
  const { kv: item } = await kv.get('greeting');
  console.log('greeting =', text(item?.value));
  const r = await kv.cas('greeting', { version: item?.version ?? 0 }, 'hi');
  console.log(
    r.ok ? `swapped, version ${r.version}` : `someone else wrote it first: ${text(r.current?.value)}`,
  );
  await Promise.all(
    Array.from({ length: 100 }, (_v, i) => kv.put(`user/${String(i).padStart(3, '0')}`, `${i}`)),
  );
  for await (const page of kv.scanPages({ prefix: 'user/' }, { limit: 40 })) {
    console.log(`page of ${page.items.length}, more: ${page.more}`);
  }
  console.log('stale read:', text((await kv.get('greeting', { consistency: 'stale' })).kv?.value));
  console.log(await kv.delete('greeting'));
} catch (err) {
  if (!(err instanceof KvClientError)) throw err;
  console.error(`${err.code}: ${err.message} (outcome unknown: ${err.outcomeUnknown})`);
  process.exitCode = 1;
} finally {
  await kv.close();
}
