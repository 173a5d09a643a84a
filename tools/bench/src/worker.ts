/**
 * A load-generating client process (forked by the bench, never in the members' processes): runs
 * closed-loop clients over ZeroMQ client connections and reports a latency histogram per step.
 */
import { decodeResponse, encodeRequest, type KvCommand, type KvResponse } from '@keel/kv';
import { ClientConnection } from '@keel/transport-zmq';
import { Histogram } from './histogram.js';
import type { FromWorker, ToWorker, WorkerResult, WorkerStep } from './workerProtocol.js';

const connections = new Map<string, ClientConnection>();

function connection(hostPort: string): ClientConnection {
  let c = connections.get(hostPort);
  if (c === undefined) {
    c = new ClientConnection({ address: `tcp://${hostPort}`, reconnectIntervalMs: 20 });
    connections.set(hostPort, c);
  }
  return c;
}

function send(msg: FromWorker): void {
  process.send?.(msg);
}

const encoder = new TextEncoder();

function keyOf(i: number): Uint8Array {
  return encoder.encode(`bench/${i.toString().padStart(8, '0')}`);
}

function encode(command: KvCommand, consistency: 'linearizable' | 'stale'): Uint8Array {
  // encodeRequest returns a view into a shared writer: copy before the next encode.
  return encodeRequest({ command, consistency }).slice();
}

/** One attempt: the decoded response, or a transport failure as a pseudo error code. */
async function attempt(
  conn: ClientConnection,
  payload: Uint8Array,
  timeoutMs: number,
): Promise<string | null> {
  let res: KvResponse;
  try {
    res = decodeResponse(await conn.request(payload, { timeoutMs }));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code.toLowerCase() : 'transport';
  }
  if (res.kind === 'error') return res.code;
  return res.result.ok ? null : 'result-failed';
}

async function fill(endpoint: string, keyspace: number, valueSize: number): Promise<number> {
  const conn = connection(endpoint);
  const value = new Uint8Array(valueSize).fill(0x61);
  let next = 0;
  let failed: string | null = null;
  const lane = async (): Promise<void> => {
    while (next < keyspace && failed === null) {
      const payload = encode({ type: 'put', key: keyOf(next++), value }, 'linearizable');
      let err: string | null = 'not-tried';
      for (let tries = 0; tries < 5 && err !== null; tries++) err = await attempt(conn, payload, 5000);
      if (err !== null) failed = err;
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
  if (failed !== null) throw new Error(`prefill of ${endpoint} failed: ${failed}`);
  return keyspace;
}

async function run(step: WorkerStep): Promise<WorkerResult> {
  const hist = new Histogram();
  const errorCodes: Record<string, number> = {};
  let ops = 0;
  let errors = 0;
  let retries = 0;
  const value = new Uint8Array(step.valueSize);
  for (let i = 0; i < value.length; i++) value[i] = 0x61 + (i % 26);
  const writeConn = connection(step.writeEndpoint);
  const readConns = step.readEndpoints.map(connection);

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
      const key = keyOf(Math.floor(rand() * step.keyspace));
      const isRead = rand() < step.readRatio;
      const conn = isRead ? readConns[readTurn++ % readConns.length]! : writeConn;
      const payload = isRead
        ? encode({ type: 'get', key }, step.consistency)
        : encode({ type: 'put', key, value }, 'linearizable');
      const start = performance.now();
      let failed: string | null = null;
      let tries = 0;
      for (;;) {
        tries++;
        failed = await attempt(conn, payload, step.timeoutMs);
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
  await Promise.allSettled([...connections.values()].map((c) => c.close()));
  connections.clear();
}

process.on('message', (raw: ToWorker) => {
  const msg = raw;
  if (msg.type === 'exit') {
    void closeAll().finally(() => process.exit(0));
    return;
  }
  const job =
    msg.type === 'run'
      ? run(msg.step).then((result) => send({ type: 'done', result }))
      : fill(msg.endpoint, msg.keyspace, msg.valueSize).then((keys) => send({ type: 'filled', keys }));
  job.catch((err: Error) => send({ type: 'error', message: err.message }));
});
// The bench's IPC channel closing means the bench is gone: never outlive it.
process.on('disconnect', () => {
  void closeAll().finally(() => process.exit(0));
});
send({ type: 'ready', pid: process.pid });
