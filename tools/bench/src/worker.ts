/**
 * A load-generating client process (forked by the bench, never in the members' processes): runs
 * closed-loop clients against Keel (ZeroMQ client connections) or etcd (its gRPC client, for the
 * comparison runs) and reports a latency histogram per step.
 */
import { decodeResponse, encodeRequest, type KvCommand, type KvResponse } from '@keel/kv';
import { ClientConnection } from '@keel/transport-zmq';
import { Etcd3 } from 'etcd3';
import { Histogram } from './histogram.js';
import { drainWatchers, markWatchers, runWriters, startWatchers, stopWatchers } from './watchWorker.js';
import type { BenchSystem, FromWorker, ToWorker, WorkerResult, WorkerStep } from './workerProtocol.js';

/**
 * One system's client as the load loop sees it: a write or a read of one key, resolving to null on
 * success or an error code (a definite failure or a transport/timeout error alike).
 */
interface Backend {
  put(key: Uint8Array, value: Uint8Array, timeoutMs: number): Promise<string | null>;
  get(key: Uint8Array, stale: boolean, timeoutMs: number): Promise<string | null>;
  /** If `a` exists (version > 0): put `a` and `b`, else get `a`; one transaction. */
  txn(a: Uint8Array, b: Uint8Array, value: Uint8Array, timeoutMs: number): Promise<string | null>;
  close(): Promise<void>;
}

const backends = new Map<string, Backend>();

function backend(system: BenchSystem, hostPort: string): Backend {
  const name = `${system}:${hostPort}`;
  let b = backends.get(name);
  if (b === undefined) {
    b = system === 'etcd' ? etcdBackend(hostPort) : keelBackend(hostPort);
    backends.set(name, b);
  }
  return b;
}

function send(msg: FromWorker): void {
  process.send?.(msg);
}

const encoder = new TextEncoder();

function keyOf(i: number): Uint8Array {
  return encoder.encode(`bench/${i.toString().padStart(8, '0')}`);
}

function keelBackend(hostPort: string): Backend {
  const conn = new ClientConnection({ address: `tcp://${hostPort}`, reconnectIntervalMs: 20 });
  // encodeRequest returns a view into a shared writer: copy before the next encode.
  const encode = (command: KvCommand, consistency: 'linearizable' | 'stale'): Uint8Array =>
    encodeRequest({ command, consistency }).slice();
  const attempt = async (payload: Uint8Array, timeoutMs: number): Promise<string | null> => {
    let res: KvResponse;
    try {
      res = decodeResponse(await conn.request(payload, { timeoutMs }));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return typeof code === 'string' ? code.toLowerCase() : 'transport';
    }
    if (res.kind === 'error') return res.code;
    if (!res.result.ok) return 'result-failed';
    // A failed compare means the prefill is missing: count it, it is not the measured path.
    return res.result.type === 'txn' && !res.result.succeeded ? 'txn-compare-failed' : null;
  };
  return {
    put: (key, value, timeoutMs) => attempt(encode({ type: 'put', key, value }, 'linearizable'), timeoutMs),
    get: (key, stale, timeoutMs) =>
      attempt(encode({ type: 'get', key }, stale ? 'stale' : 'linearizable'), timeoutMs),
    txn: (a, b, value, timeoutMs) =>
      attempt(
        encode(
          {
            type: 'txn',
            compare: [{ key: a, target: 'version', op: '>', value: 0 }],
            success: [
              { type: 'put', key: a, value },
              { type: 'put', key: b, value },
            ],
            failure: [{ type: 'get', key: a }],
          },
          'linearizable',
        ),
        timeoutMs,
      ),
    close: () => conn.close(),
  };
}

/**
 * etcd through the `etcd3` gRPC client, one HTTP/2 channel per member. Reads are linearizable by
 * default (etcd's ReadIndex), serializable (member-local) for stale reads — the same two
 * guarantees Keel's reads offer.
 */
function etcdBackend(hostPort: string): Backend {
  const client = new Etcd3({ hosts: `http://${hostPort}` });
  const attempt = async (call: Promise<unknown>, timeoutMs: number): Promise<string | null> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      return await Promise.race([call.then(() => null), timeout]);
    } catch (err) {
      const name = (err as { name?: unknown }).name;
      return typeof name === 'string' ? `etcd:${name}` : 'etcd:error';
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    put: (key, value, timeoutMs) =>
      attempt(client.put(Buffer.from(key)).value(Buffer.from(value)).exec(), timeoutMs),
    get: (key, stale, timeoutMs) =>
      attempt(client.get(Buffer.from(key)).serializable(stale).exec(), timeoutMs),
    txn: (a, b, value, timeoutMs) =>
      attempt(
        client
          .if(Buffer.from(a), 'Version', '>', 0)
          .then(
            client.put(Buffer.from(a)).value(Buffer.from(value)),
            client.put(Buffer.from(b)).value(Buffer.from(value)),
          )
          .else(client.get(Buffer.from(a)))
          .commit()
          .then((r) => {
            if (!r.succeeded) throw Object.assign(new Error('compare failed'), { name: 'TxnCompareFailed' });
          }),
        timeoutMs,
      ),
    close: async () => client.close(),
  };
}

async function fill(
  system: BenchSystem,
  endpoint: string,
  keyspace: number,
  valueSize: number,
): Promise<number> {
  const b = backend(system, endpoint);
  const value = new Uint8Array(valueSize).fill(0x61);
  let next = 0;
  let failed: string | null = null;
  const lane = async (): Promise<void> => {
    while (next < keyspace && failed === null) {
      const key = keyOf(next++);
      let err: string | null = 'not-tried';
      for (let tries = 0; tries < 5 && err !== null; tries++) err = await b.put(key, value, 5000);
      if (err !== null) failed = err;
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
  if (failed !== null) throw new Error(`prefill of ${endpoint} failed: ${failed}`);
  return keyspace;
}

async function run(step: WorkerStep): Promise<WorkerResult> {
  const hist = new Histogram();
  // keel-lint-allow-object-map: keyed by KEEL_* error codes, serialized to the parent
  const errorCodes: Record<string, number> = {};
  let ops = 0;
  let errors = 0;
  let retries = 0;
  const value = new Uint8Array(step.valueSize);
  for (let i = 0; i < value.length; i++) value[i] = 0x61 + (i % 26);
  const writer = backend(step.system, step.writeEndpoint);
  const readers = step.readEndpoints.map((e) => backend(step.system, e));
  const stale = step.consistency === 'stale';

  const t0 = performance.now();
  const measureFrom = t0 + step.warmupMs;
  const measureTo = measureFrom + step.durationMs;
  let cpu0 = process.cpuUsage();
  let measuring = false;
  const markMeasuring = (): void => {
    if (measuring) return;
    measuring = true;
    cpu0 = process.cpuUsage();
    send({ type: 'measuring' });
  };
  const warmTimer = setTimeout(markMeasuring, step.warmupMs);
  const progress = setInterval(() => send({ type: 'progress', ops }), 250);

  const client = async (c: number): Promise<void> => {
    let rng = (c * 2654435761 + 12345) >>> 0;
    const rand = (): number => {
      // xorshift32: cheap, deterministic per client, good enough to spread keys.
      rng ^= rng << 13;
      rng >>>= 0;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      rng >>>= 0;
      return rng / 4294967296;
    };
    let readTurn = c;
    while (performance.now() < measureTo) {
      const k = Math.floor(rand() * step.keyspace);
      const key = keyOf(k);
      const isRead = rand() < step.readRatio;
      const reader = isRead ? readers[readTurn++ % readers.length]! : null;
      const start = performance.now();
      let failed: string | null = null;
      let tries = 0;
      for (;;) {
        tries++;
        failed =
          reader !== null
            ? await reader.get(key, stale, step.timeoutMs)
            : step.txn === true
              ? await writer.txn(key, keyOf((k + 1) % step.keyspace), value, step.timeoutMs)
              : await writer.put(key, value, step.timeoutMs);
        if (failed === null || tries >= step.attempts) break;
        if (performance.now() >= measureFrom) retries++;
        errorCodes[failed] = (errorCodes[failed] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, 5));
      }
      const end = performance.now();
      if (end < measureFrom || end > measureTo) continue;
      if (failed === null) {
        ops++;
        hist.recordUs((end - start) * 1000);
      } else {
        errors++;
        errorCodes[failed] = (errorCodes[failed] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: step.clients }, (_v, c) => client(c)));
  clearTimeout(warmTimer);
  clearInterval(progress);
  markMeasuring();
  const cpu = process.cpuUsage(cpu0);
  return {
    pid: process.pid,
    clients: step.clients,
    ops,
    errors,
    retries,
    errorCodes,
    histogram: hist.toData(),
    windowMs: step.durationMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssBytes: process.memoryUsage.rss(),
  };
}

async function closeAll(): Promise<void> {
  await stopWatchers();
  await Promise.allSettled([...backends.values()].map((b) => b.close()));
  backends.clear();
}

process.on('message', (raw: ToWorker) => {
  const msg = raw;
  if (msg.type === 'exit') {
    void closeAll().finally(() => process.exit(0));
    return;
  }
  if (msg.type === 'watch-mark') {
    markWatchers();
    return;
  }
  const job =
    msg.type === 'run'
      ? run(msg.step).then((result) => send({ type: 'done', result }))
      : msg.type === 'watch'
        ? startWatchers(msg.spec).then((watchers) => send({ type: 'watching', watchers }))
        : msg.type === 'watch-drain'
          ? drainWatchers(msg.acks, msg.fromUs, msg.toUs, msg.lastRevision, msg.drainMs).then((result) =>
              send({ type: 'watch-done', result }),
            )
          : msg.type === 'watch-write'
            ? runWriters(msg.spec).then((result) => send({ type: 'written', result }))
            : fill(msg.system, msg.endpoint, msg.keyspace, msg.valueSize).then((keys) =>
                send({ type: 'filled', keys }),
              );
  job.catch((err: Error) => send({ type: 'error', message: err.message }));
});
// The bench's IPC channel closing means the bench is gone: never outlive it.
process.on('disconnect', () => {
  void closeAll().finally(() => process.exit(0));
});
send({ type: 'ready', pid: process.pid });
