import { request } from 'node:http';
import { waitFor } from '@keel/ops';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Dashboard,
  type DashboardActions,
  type MemberRef,
  type Snapshot,
  startDashboard,
  TOKEN_HEADER,
} from '../src/index.js';
import { elect, type FakeMember, fakeMembers } from './fakeMembers.js';

let fake: Awaited<ReturnType<typeof fakeMembers>>;
let dash: Dashboard;
let token = '';
const calls: string[] = [];
const puts: string[] = [];
const watched: string[] = [];
const states = new Map<string, MemberRef['state']>();

const actions: DashboardActions = {
  kill: async (id) => {
    calls.push(`kill ${id}`);
    states.set(id, 'stopped');
    const m = fake.members.find((x) => x.id === id) as FakeMember;
    m.up = false;
    return { ok: true, message: `${id} killed` };
  },
  pause: async (id) => {
    calls.push(`pause ${id}`);
    return { ok: false, message: `cannot pause ${id}` };
  },
};

beforeAll(async () => {
  fake = await fakeMembers(['n1', 'n2', 'n3']);
  elect(fake.members, 'n1', 2);
  dash = await startDashboard({
    source: {
      name: 'test-cluster',
      members: () =>
        fake.members.map((m) => ({
          id: m.id,
          http: m.http,
          client: null,
          pid: null,
          state: states.get(m.id) ?? 'running',
        })),
    },
    actions,
    openKv: () => ({
      put: async (key: unknown) => {
        puts.push(String(key));
        return { ok: true, type: 'put', revision: puts.length, prevKv: null } as never;
      },
      get: async () => ({ ok: true, type: 'get', revision: 1, kv: null }) as never,
      close: async () => undefined,
      watch: (key: unknown, o?: { prefix?: boolean; signal?: AbortSignal }) =>
        (async function* () {
          watched.push(`${String(key)}${o?.prefix === true ? '*' : ''}`);
          const kv = (k: string, v: string, rev: number) => ({
            key: new TextEncoder().encode(k),
            value: new TextEncoder().encode(v),
            version: 1,
            createRevision: rev,
            modRevision: rev,
          });
          yield {
            events: [
              { type: 'put', kv: kv('a/1', 'x', 7), prev: null },
              { type: 'delete', kv: kv('a/2', '', 8), prev: null },
            ],
            revision: 8,
            endpoint: 'fake',
          };
          await new Promise<void>((resolve) => o?.signal?.addEventListener('abort', () => resolve()));
          watched.push('ended');
        })() as never,
    }),
  });
  const html = await (await fetch(dash.url)).text();
  token = /name="keel-dashboard-token" content="([0-9a-f]+)"/.exec(html)?.[1] ?? '';
});

afterAll(async () => {
  await dash?.close();
  await fake?.close();
});

const post = (path: string, body: object, headers: Record<string, string> = { [TOKEN_HEADER]: token }) =>
  fetch(new URL(path, dash.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

const snapshotWhere = (what: string, ok: (s: Snapshot) => boolean) =>
  waitFor(
    what,
    () => {
      const s = dash.snapshot();
      return s !== null && ok(s) ? s : undefined;
    },
    5000,
    20,
  );

describe('startDashboard', () => {
  it('listens on loopback and serves the page with a per-run token, and no other site assets', async () => {
    expect(new URL(dash.url).hostname).toBe('127.0.0.1');
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    const res = await fetch(new URL('/app.js', dash.url));
    expect(res.headers.get('content-type')).toContain('javascript');
    const html = await (await fetch(dash.url)).text();
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('aggregates the members: leader, term, replication and membership from its /status', async () => {
    const s = await snapshotWhere('a snapshot naming n1', (x) => x.leader === 'n1');
    expect(s.term).toBe(2);
    expect(s.members.map((m) => m.id)).toEqual(['n1', 'n2', 'n3']);
    expect(s.replication.map((p) => p.id)).toEqual(['n2', 'n3']);
    expect(s.conf?.voters).toEqual(['n1', 'n2', 'n3']);
    expect(s.actions).toEqual(['kill', 'pause']);
    expect(s.timeline.some((e) => e.kind === 'leader' && e.text.startsWith('n1 leads in term 2'))).toBe(true);
  });

  it('pushes snapshots over Server-Sent Events', async () => {
    const ac = new AbortController();
    const res = await fetch(new URL('/events', dash.url), { signal: ac.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('\n\ndata: ') && !/data: .*\n\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    ac.abort();
    const frame = JSON.parse(/data: (.*)\n\n/.exec(text)?.[1] ?? 'null') as Snapshot;
    expect(frame.name).toBe('test-cluster');
  });

  it('refuses POSTs without the token, from another origin, or for another Host (CSRF, DNS rebinding)', async () => {
    expect((await post('/api/action', { action: 'kill', id: 'n2' }, {})).status).toBe(403);
    expect(
      (await post('/api/action', { action: 'kill', id: 'n2' }, { [TOKEN_HEADER]: 'wrong' })).status,
    ).toBe(403);
    const cross = await post(
      '/api/action',
      { action: 'kill', id: 'n2' },
      { [TOKEN_HEADER]: token, origin: 'http://evil.example' },
    );
    expect(cross.status).toBe(403);
    expect(calls).toEqual([]);
  });

  it('runs an action through the injected port and logs it in the timeline; a new leader is recorded with the gap', async () => {
    const res = await post('/api/action', { action: 'kill', id: 'n1' });
    expect(res.status).toBe(200);
    expect(calls).toEqual(['kill n1']);
    await snapshotWhere('no leader after the kill', (x) => x.leader === null);
    elect(
      fake.members.filter((m) => m.id !== 'n1'),
      'n3',
      3,
    );
    const s = await snapshotWhere('n3 leading', (x) => x.leader === 'n3');
    const texts = s.timeline.map((e) => e.text);
    expect(texts).toContain('kill n1: n1 killed');
    expect(texts.some((t) => /^n3 leads in term 3, \d+ ms without a leader$/.test(t))).toBe(true);
    expect(s.members.find((m) => m.id === 'n1')?.state).toBe('stopped');
  });

  it('reports a failed action, refuses unknown ones and ones it was not given', async () => {
    const failed = await post('/api/action', { action: 'pause', id: 'n2' });
    expect(failed.status).toBe(500);
    expect(((await failed.json()) as { message: string }).message).toBe('cannot pause n2');
    expect((await post('/api/action', { action: 'explode', id: 'n2' })).status).toBe(400);
    expect((await post('/api/action', { action: 'restart', id: 'n2' })).status).toBe(404);
    const s = await snapshotWhere('the failure in the timeline', (x) =>
      x.timeline.some((e) => e.bad === true && e.text.includes('cannot pause')),
    );
    expect(s).toBeDefined();
  });

  it('runs a bounded write load and reports writes/s, then stops it', async () => {
    expect((await post('/api/load/start', { rate: 100, concurrency: 2, durationMs: 20_000 })).status).toBe(
      200,
    );
    expect((await post('/api/load/start', {})).status).toBe(409);
    const s = await snapshotWhere('writes/s above zero', (x) => x.load.writesPerSec > 0);
    expect(s.load.running).toBe(true);
    expect(s.load.p50Ms).not.toBeNull();
    expect((await post('/api/load/stop', {})).status).toBe(200);
    const after = dash.snapshot();
    expect(after?.load.running).toBe(false);
    const n = puts.length;
    expect(n).toBeGreaterThan(0);
    expect(puts.every((k) => /^load\/\d{4}$/.test(k))).toBe(true);
  });

  it('ends a write load by itself after its duration', async () => {
    expect((await post('/api/load/start', { rate: 50, concurrency: 1, durationMs: 300 })).status).toBe(200);
    await snapshotWhere('the load over', (x) => !x.load.running);
  });

  it('answers no request that names another host (DNS rebinding)', async () => {
    const { port } = new URL(dash.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/api/snapshot', headers: { host: `evil.example:${port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
  });

  it('follows a watch from the console and pushes its events; unwatch ends it', async () => {
    const r = (await (await post('/api/kv/watch', { key: 'a/', prefix: true })).json()) as {
      message: string;
    };
    expect(r.message).toBe('watching keys starting with a/');
    await snapshotWhere('two watch events', (x) => x.watch?.count === 2);
    expect(dash.snapshot()?.watch).toMatchObject({
      key: 'a/',
      prefix: true,
      revision: 8,
      error: null,
      events: [
        { type: 'put', key: 'a/1', value: 'x', revision: 7 },
        { type: 'delete', key: 'a/2', value: null, revision: 8 },
      ],
    });
    expect((await post('/api/kv/unwatch', {})).status).toBe(200);
    await waitFor('the watch to end', () => (watched.includes('ended') ? true : undefined), 5000, 20);
    expect(watched).toEqual(['a/*', 'ended']);
  });

  it('answers put and get from the console', async () => {
    const put = (await (await post('/api/kv/put', { key: 'a', value: 'b' })).json()) as { ok: boolean };
    expect(put.ok).toBe(true);
    const get = (await (await post('/api/kv/get', { key: 'zz' })).json()) as { message: string };
    expect(get.message).toBe('zz: not found');
  });
});
