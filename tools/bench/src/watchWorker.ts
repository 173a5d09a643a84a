/**
 * The client-process side of `keel bench watch`: watchers on one prefix (Keel's `KvClient.watch`
 * long polls, or etcd3 watches multiplexed on one gRPC stream per client), and the writers whose
 * acknowledgements are the commit times. Every receipt and ack is stamped with `nowUs()`.
 */
import { decodeResponse, encodeRequest, KvClient } from '@keel/kv';
import { ClientConnection } from '@keel/transport-zmq';
import { Etcd3 } from 'etcd3';
import { Histogram } from './histogram.js';
import { addCounts, emptyCounts, matchReceipts, nowUs, type Receipts } from './watchMatch.js';
import type { WatchSpec, WatchWorkerResult, WriteResult, WriteSpec } from './workerProtocol.js';

interface Watcher {
  readonly endpoint: string;
  readonly receipts: Receipts;
  ready: boolean;
  /** Why it ended before the bench stopped it (an error code), or null while it runs. */
  ended: string | null;
  highest: number;
  stop(): Promise<void>;
}

/** The watchers of this process and their clients (one per member endpoint). */
interface WatchSet {
  readonly watchers: Watcher[];
  readonly close: () => Promise<void>;
  readonly cpu0: NodeJS.CpuUsage;
  readonly t0: number;
  /** CPU and time at the bench's `watch-mark`s. */
  readonly marks: { readonly cpu: NodeJS.CpuUsage; readonly at: number }[];
}

let current: WatchSet | null = null;

const errorCode = (err: unknown): string => {
  const e = err as { code?: unknown; name?: unknown };
  if (typeof e.code === 'string') return e.code;
  return typeof e.name === 'string' ? e.name : 'error';
};

function keelWatcher(kv: KvClient, endpoint: string, prefix: string): Watcher {
  const ac = new AbortController();
  const w: Watcher = {
    endpoint,
    receipts: { revs: [], atUs: [] },
    ready: false,
    ended: null,
    highest: 0,
    stop: async () => {
      ac.abort();
      await loop;
    },
  };
  const loop = (async () => {
    try {
      // progress: the first (empty) batch says the watch is open on its member.
      for await (const b of kv.watch(prefix, { prefix: true, progress: true, signal: ac.signal })) {
        const at = nowUs();
        w.ready = true;
        for (const e of b.events) {
          w.receipts.revs.push(e.kv.modRevision);
          w.receipts.atUs.push(at);
          if (e.kv.modRevision > w.highest) w.highest = e.kv.modRevision;
        }
      }
    } catch (err) {
      if (!ac.signal.aborted) w.ended = errorCode(err);
    }
  })();
  return w;
}

async function etcdWatcher(client: Etcd3, endpoint: string, prefix: string): Promise<Watcher> {
  const w: Watcher = {
    endpoint,
    receipts: { revs: [], atUs: [] },
    ready: false,
    ended: null,
    highest: 0,
    stop: async () => {},
  };
  const watcher = await client.watch().prefix(prefix).create();
  w.ready = true;
  watcher.on('put', (kv) => {
    const rev = Number(kv.mod_revision);
    w.receipts.revs.push(rev);
    w.receipts.atUs.push(nowUs());
    if (rev > w.highest) w.highest = rev;
  });
  watcher.on('error', (err) => {
    w.ended ??= `etcd:${errorCode(err)}`;
  });
  w.stop = async () => {
    await watcher.cancel().catch(() => {});
  };
  return w;
}

/** Opens this process's watchers (watcher i on endpoint i mod n) and resolves once every one is open. */
export async function startWatchers(spec: WatchSpec, readyTimeoutMs = 60_000): Promise<number> {
  if (current !== null) throw new Error('watchers are already running in this process');
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const eps = spec.endpoints;
  const watchers: Watcher[] = [];
  let close: () => Promise<void>;
  if (spec.system === 'keel') {
    const clients = eps.map(
      (ep) =>
        new KvClient({
          endpoints: [ep],
          connect: (a) => new ClientConnection({ address: `tcp://${a}`, reconnectIntervalMs: 20 }),
          session: false,
          timeoutMs: 30_000,
        }),
    );
    for (let i = spec.firstIndex; i < spec.firstIndex + spec.watchers; i++) {
      const m = i % eps.length;
      watchers.push(keelWatcher(clients[m]!, eps[m]!, spec.prefix));
    }
    close = async () => {
      await Promise.allSettled(clients.map((c) => c.close()));
    };
  } else {
    // One client per member: etcd3 multiplexes all of a client's watches on one gRPC stream.
    const clients = eps.map((ep) => new Etcd3({ hosts: `http://${ep}` }));
    close = async () => {
      for (const c of clients) c.close();
    };
    const made = await Promise.all(
      Array.from({ length: spec.watchers }, (_v, k) => {
        const m = (spec.firstIndex + k) % eps.length;
        return etcdWatcher(clients[m]!, eps[m]!, spec.prefix);
      }),
    );
    watchers.push(...made);
  }
  current = { watchers, close, cpu0, t0, marks: [] };
  const deadline = performance.now() + readyTimeoutMs;
  while (!watchers.every((w) => w.ready || w.ended !== null)) {
    if (performance.now() > deadline) {
      throw new Error(
        `${watchers.filter((w) => !w.ready).length} of ${watchers.length} watchers not open within ${readyTimeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const failed = watchers.filter((w) => w.ended !== null);
  if (failed.length > 0) throw new Error(`${failed.length} watchers failed to open: ${failed[0]!.ended}`);
  return watchers.length;
}

/** The bench's mark of the measured window's start or end. */
export function markWatchers(): void {
  current?.marks.push({ cpu: process.cpuUsage(), at: performance.now() });
}

/**
 * Waits (bounded) until every watcher has received `lastRevision`, counts and times the receipts
 * against the acks, then stops the watchers and closes their clients.
 */
export async function drainWatchers(
  acks: readonly (readonly [number, number, number])[],
  fromUs: number,
  toUs: number,
  lastRevision: number,
  drainMs: number,
): Promise<WatchWorkerResult> {
  const set = current;
  if (set === null) throw new Error('no watchers to drain');
  current = null;
  const deadline = performance.now() + drainMs;
  const behind = (): boolean => set.watchers.some((w) => w.ended === null && w.highest < lastRevision);
  while (behind() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const [m0, m1] = set.marks;
  const windowMs = m0 !== undefined && m1 !== undefined ? m1.at - m0.at : performance.now() - set.t0;
  const cpu =
    m0 !== undefined && m1 !== undefined
      ? { user: m1.cpu.user - m0.cpu.user, system: m1.cpu.system - m0.cpu.system }
      : process.cpuUsage(set.cpu0);
  await Promise.allSettled(set.watchers.map((w) => w.stop()));
  await set.close();
  const table = { acks: new Map(acks.map(([r, sent, ack]) => [r, [sent, ack] as const])), fromUs, toUs };
  const hist = new Histogram();
  const fromSend = new Histogram();
  const counts = emptyCounts();
  // keel-lint-allow-object-map: endpoints and error codes, serialized to the parent
  const perEndpoint: Record<string, number> = {};
  // keel-lint-allow-object-map: endpoints and error codes, serialized to the parent
  const ended: Record<string, number> = {};
  let caughtUp = 0;
  for (const w of set.watchers) {
    addCounts(counts, matchReceipts(table, w.receipts, hist, fromSend));
    perEndpoint[w.endpoint] = (perEndpoint[w.endpoint] ?? 0) + 1;
    if (w.ended !== null) ended[w.ended] = (ended[w.ended] ?? 0) + 1;
    if (w.highest >= lastRevision) caughtUp++;
  }
  return {
    pid: process.pid,
    watchers: set.watchers.length,
    perEndpoint,
    counts,
    histogram: hist.toData(),
    fromSend: fromSend.toData(),
    caughtUp,
    ended,
    windowMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssBytes: process.memoryUsage.rss(),
  };
}

/** Stops whatever watchers run (the bench is leaving). */
export async function stopWatchers(): Promise<void> {
  const set = current;
  current = null;
  if (set === null) return;
  await Promise.allSettled(set.watchers.map((w) => w.stop()));
  await set.close();
}

/** One put of `key`: the revision it created, or an error code. */
type PutFn = (key: Uint8Array, value: Uint8Array, timeoutMs: number) => Promise<number | string>;

function keelPut(endpoint: string): { put: PutFn; close: () => Promise<void> } {
  const conn = new ClientConnection({ address: `tcp://${endpoint}`, reconnectIntervalMs: 20 });
  return {
    put: async (key, value, timeoutMs) => {
      try {
        const payload = encodeRequest({ command: { type: 'put', key, value }, consistency: 'linearizable' });
        const res = decodeResponse(await conn.request(payload.slice(), { timeoutMs }));
        if (res.kind === 'error') return res.code;
        return res.result.ok && res.result.type === 'put' ? res.result.revision : 'result-failed';
      } catch (err) {
        return errorCode(err).toLowerCase();
      }
    },
    close: () => conn.close(),
  };
}

function etcdPut(endpoint: string): { put: PutFn; close: () => Promise<void> } {
  const client = new Etcd3({ hosts: `http://${endpoint}` });
  return {
    put: async (key, value, timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      try {
        const call = client
          .put(Buffer.from(key))
          .value(Buffer.from(value))
          .exec()
          .then((r) => Number(r.header.revision));
        return await Promise.race([call, timeout]);
      } catch (err) {
        return `etcd:${errorCode(err)}`;
      } finally {
        clearTimeout(timer);
      }
    },
    close: async () => client.close(),
  };
}

/**
 * The writers: `spec.writers` loops putting keys under the prefix, each with one put outstanding,
 * paced to `spec.rate` puts/s in total (0: flat out), for warm-up + duration. No retries: a failed
 * put is counted, and a revision it may have created shows as `unacked` at the watchers.
 */
export async function runWriters(spec: WriteSpec): Promise<WriteResult> {
  const client = spec.system === 'etcd' ? etcdPut(spec.endpoint) : keelPut(spec.endpoint);
  const value = new Uint8Array(spec.valueSize).fill(0x77);
  const enc = new TextEncoder();
  const acks: [number, number, number][] = [];
  // keel-lint-allow-object-map: error codes, serialized to the parent
  const errorCodes: Record<string, number> = {};
  let errors = 0;
  const t0 = performance.now();
  const fromUs = nowUs() + spec.warmupMs * 1000;
  const toUs = fromUs + spec.durationMs * 1000;
  const endAt = t0 + spec.warmupMs + spec.durationMs;
  // Each writer's n-th put is due at t0 + n × interval (it catches up at once when late).
  const intervalMs = spec.rate > 0 ? (1000 * spec.writers) / spec.rate : 0;
  const writer = async (w: number): Promise<void> => {
    for (let n = 0; ; n++) {
      const due = t0 + (n + w / spec.writers) * intervalMs;
      const now = performance.now();
      if (due > now) await new Promise((r) => setTimeout(r, due - now));
      if (performance.now() >= endAt) return;
      const key = enc.encode(`${spec.prefix}w${w}/${n % 100}`);
      const sent = nowUs();
      const r = await client.put(key, value, spec.timeoutMs);
      const at = nowUs();
      if (typeof r === 'number') acks.push([r, sent, at]);
      else {
        errors++;
        errorCodes[r] = (errorCodes[r] ?? 0) + 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: spec.writers }, (_v, w) => writer(w)));
  } finally {
    await client.close();
  }
  const puts = acks.filter(([, , at]) => at >= fromUs && at <= toUs).length;
  return { acks, fromUs, toUs, puts, errors, errorCodes };
}
