import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, handler, offered, parseAction } from './actions.js';
import { loadAssets } from './assets.js';
import { ClusterWatch, type WatchSnapshot } from './ClusterWatch.js';
import { allowedHosts, refusal } from './guard.js';
import { Timeline } from './Timeline.js';
import type { ClusterSource, DashboardActions, DashboardKv, DashboardLogger, Snapshot } from './types.js';
import { WatchConsole } from './WatchConsole.js';
import { loadSettings, WriteLoad } from './WriteLoad.js';

export interface DashboardOptions {
  /** Address to listen on; loopback by default (the page can kill members: keep it off the network). */
  readonly host?: string;
  /** 0 (default): any free port. */
  readonly port?: number;
  readonly source: ClusterSource;
  readonly actions: DashboardActions;
  /** Opens a KV client for the write load and the put/get console; without it neither is offered. */
  readonly openKv?: () => DashboardKv;
  readonly logger?: DashboardLogger;
  /** How often members are polled and the page may be updated (default 100 ms: ~10 Hz). */
  readonly pollMs?: number;
}

export interface Dashboard {
  /** `http://host:port/` of the page. */
  readonly url: string;
  /** The latest snapshot (what the page shows). */
  snapshot(): Snapshot | null;
  /** Stops polling and the write load, ends the pages' streams, closes the server. */
  close(): Promise<void>;
}

const MAX_BODY = 16 * 1024;
const TIMELINE_SHOWN = 60;

/** Starts the dashboard server and its polling loop; resolves once it listens. */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  const pollMs = options.pollMs ?? 100;
  const token = randomBytes(16).toString('hex');
  const assets = loadAssets(token);
  const timeline = new Timeline();
  const watch = new ClusterWatch(options.source, timeline);
  const openKv = options.openKv;
  const load = openKv === undefined ? null : new WriteLoad(openKv);
  const kvConsole: { kv: DashboardKv | null } = { kv: null };
  // The console's watch pushes its events as they come (not at the next poll).
  const kvWatch =
    openKv === undefined
      ? null
      : new WatchConsole(
          () => {
            kvConsole.kv ??= openKv();
            return kvConsole.kv;
          },
          () => {
            if (last === null) return;
            last = { ...last, watch: kvWatch?.view() ?? null };
            push(true);
          },
        );
  const streams = new Set<ServerResponse>();
  const actionNames = offered(options.actions);
  let last: Snapshot | null = null;
  let lastSent = '';
  let lastSentAt = 0;
  let busy: string | null = null;
  const quiet = new Set<string>();
  let hosts = new Set<string>();

  const build = (w: WatchSnapshot): Snapshot => ({
    at: Date.now(),
    name: options.source.name,
    ...w,
    timeline: timeline.last(TIMELINE_SHOWN),
    load: load?.view() ?? emptyLoad(),
    actions: actionNames,
    kv: openKv !== undefined,
    watch: kvWatch?.view() ?? null,
  });

  const push = (force: boolean): void => {
    if (last === null) return;
    const { at: _at, ...rest } = last;
    const key = JSON.stringify(rest);
    const now = Date.now();
    if (!force && key === lastSent && now - lastSentAt < 1000) return;
    lastSent = key;
    lastSentAt = now;
    const frame = `data: ${JSON.stringify(last)}\n\n`;
    for (const s of streams) s.write(frame);
  };

  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let loopDone: Promise<void> = Promise.resolve();
  const loop = async (): Promise<void> => {
    if (stopped) return;
    try {
      load?.tick();
      last = build(await watch.poll(quiet));
      push(false);
    } catch (err) {
      options.logger?.warn({ err }, 'dashboard poll failed');
    }
    if (!stopped) timer = setTimeout(() => (loopDone = loop()), pollMs);
  };

  const runAction = async (body: unknown): Promise<[number, object]> => {
    const r = parseAction(body);
    if (typeof r === 'string') return [400, { ok: false, message: r }];
    const run = handler(options.actions, r);
    if (run === null) return [404, { ok: false, message: `this dashboard does not offer '${r.action}'` }];
    if (busy !== null) return [409, { ok: false, message: `busy with '${busy}'; try again when it is done` }];
    const what = describe(r);
    busy = what;
    if (r.id !== null) quiet.add(r.id);
    timeline.add({ at: Date.now(), kind: 'action', text: `${what}…` });
    try {
      const res = await run();
      timeline.add({ at: Date.now(), kind: 'action', text: `${what}: ${res.message}`, bad: !res.ok });
      options.logger?.info({ action: r.action, id: r.id, ok: res.ok }, res.message);
      return [res.ok ? 200 : 500, res];
    } catch (err) {
      const message = (err as Error).message;
      timeline.add({ at: Date.now(), kind: 'action', text: `${what} failed: ${message}`, bad: true });
      return [500, { ok: false, message }];
    } finally {
      busy = null;
      quiet.clear();
    }
  };

  const runLoad = async (path: string, body: Record<string, unknown>): Promise<[number, object]> => {
    if (load === null) return [404, { ok: false, message: 'this dashboard has no KV client' }];
    if (path === '/api/load/start') {
      if (load.isRunning) return [409, { ok: false, message: 'a write load is already running' }];
      const s = loadSettings(body);
      try {
        load.start(s);
      } catch (err) {
        return [500, { ok: false, message: `cannot start the load: ${(err as Error).message}` }];
      }
      const text = `write load started: ${s.rate}/s, ${s.concurrency} concurrent, for ${s.durationMs / 1000} s`;
      timeline.add({ at: Date.now(), kind: 'load', text });
      return [200, { ok: true, message: text }];
    }
    await load.stop();
    const v = load.view();
    const text = `write load stopped: ${v.ok} writes, ${v.failed} failed`;
    timeline.add({ at: Date.now(), kind: 'load', text });
    return [200, { ok: true, message: text }];
  };

  const runKv = async (path: string, body: Record<string, unknown>): Promise<[number, object]> => {
    if (openKv === undefined) return [404, { ok: false, message: 'this dashboard has no KV client' }];
    const key = body.key;
    if (typeof key !== 'string' || key === '') return [400, { ok: false, message: 'a key is required' }];
    try {
      kvConsole.kv ??= openKv();
      if (path === '/api/kv/put') {
        const value = typeof body.value === 'string' ? body.value : '';
        const r = await kvConsole.kv.put(key, value);
        return [200, { ok: true, message: `put ${key}: revision ${r.revision}` }];
      }
      const r = await kvConsole.kv.get(key);
      const value = r.kv === null ? null : new TextDecoder().decode(r.kv.value);
      return [200, { ok: true, value, message: value === null ? `${key}: not found` : `${key} = ${value}` }];
    } catch (err) {
      return [500, { ok: false, message: (err as Error).message }];
    }
  };

  const runWatch = (path: string, body: Record<string, unknown>): [number, object] => {
    if (kvWatch === null) return [404, { ok: false, message: 'this dashboard has no KV client' }];
    if (path === '/api/kv/unwatch') {
      kvWatch.stop();
      return [200, { ok: true, message: 'watch stopped' }];
    }
    const key = body.key;
    if (typeof key !== 'string' || key === '')
      return [400, { ok: false, message: 'a key or prefix is required' }];
    const text = kvWatch.start(key, body.prefix === true);
    timeline.add({ at: Date.now(), kind: 'action', text });
    return [200, { ok: true, message: text }];
  };

  const server = createServer((req, res) => {
    void route(req, res).catch((err: unknown) => {
      options.logger?.warn({ err }, 'dashboard request failed');
      if (!res.headersSent) send(res, 500, { ok: false, message: 'internal error' });
      else res.end();
    });
  });

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!hosts.has(req.headers.host ?? '')) return send(res, 421, { ok: false, message: 'unexpected Host' });
    if (req.method === 'GET') {
      const asset = assets.get(path === '/index.html' ? '/' : path);
      if (asset !== undefined) {
        res.writeHead(200, {
          'content-type': asset.type,
          'cache-control': 'no-store',
          'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
          'x-content-type-options': 'nosniff',
        });
        res.end(asset.body);
        return;
      }
      if (path === '/events') return openStream(req, res);
      if (path === '/api/snapshot') return send(res, last === null ? 503 : 200, last ?? { ok: false });
      return send(res, 404, { ok: false, message: 'not found' });
    }
    if (req.method !== 'POST') return send(res, 405, { ok: false, message: 'method not allowed' });
    const why = refusal(req, token, hosts);
    if (why !== null) return send(res, 403, { ok: false, message: why });
    const body = await readJson(req);
    if (body === null) return send(res, 400, { ok: false, message: 'expected a JSON object body' });
    let answer: [number, object];
    if (path === '/api/action') answer = await runAction(body);
    else if (path === '/api/load/start' || path === '/api/load/stop') answer = await runLoad(path, body);
    else if (path === '/api/kv/put' || path === '/api/kv/get') answer = await runKv(path, body);
    else if (path === '/api/kv/watch' || path === '/api/kv/unwatch') answer = runWatch(path, body);
    else answer = [404, { ok: false, message: 'not found' }];
    last =
      last === null
        ? null
        : {
            ...last,
            timeline: timeline.last(TIMELINE_SHOWN),
            load: load?.view() ?? emptyLoad(),
            watch: kvWatch?.view() ?? null,
          };
    push(true);
    send(res, answer[0], answer[1]);
  };

  const openStream = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write('retry: 1000\n\n');
    if (last !== null) res.write(`data: ${JSON.stringify(last)}\n\n`);
    streams.add(res);
    req.on('close', () => streams.delete(res));
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(host, port);
  loopDone = loop(); // close() waits for the poll in progress
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/`,
    snapshot: () => last,
    close: async () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await loopDone;
      await load?.stop();
      kvWatch?.stop();
      await kvConsole.kv?.close();
      for (const s of streams) s.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk);
  }
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function emptyLoad(): Snapshot['load'] {
  return {
    running: false,
    rate: 0,
    concurrency: 0,
    ok: 0,
    failed: 0,
    writesPerSec: 0,
    p50Ms: null,
    p99Ms: null,
    history: [],
    lastError: null,
  };
}
