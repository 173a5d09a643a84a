import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../examples/counter.js';
import { type AdminHttpServer, type StatusSource, startAdminHttp } from '../src/adminHttp.js';
import { NodeMetrics } from '../src/metrics.js';
import type { MemberStatus } from '../src/status.js';

const TOKEN = 'admin-token-0123456789';

// Only what the auth check in front of the routes needs: answers that show a route was reached.
const member: StatusSource = {
  status: () => ({ id: 'a', role: 'leader', leader: 'a', term: 3 }) as unknown as MemberStatus,
  refreshMetrics: () => {},
  members: () => ({}) as never,
  changeMembers: () => Promise.reject(new Error('not reached')),
  takeSnapshot: () => true,
  id: 'a',
  transfer: () => ({ ok: false, reason: 'not-leader' }) as never,
  latestSnapshot: () => null,
  readBarrier: () => Promise.reject(new Error('not reached')),
  isolate: (on) => {
    isolations.push(on);
  },
};
const isolations: boolean[] = [];

let server: AdminHttpServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function start(token: string | null, faultInjection = false): Promise<string> {
  const port = await freePort();
  server = await startAdminHttp(
    { host: '127.0.0.1', port },
    member,
    new NodeMetrics({ nodeId: 'a' }),
    token,
    faultInjection,
  );
  return `http://127.0.0.1:${port}`;
}

describe('admin HTTP with a token', () => {
  it('answers 401 without the right bearer token on every path but /healthz', async () => {
    const url = await start(TOKEN);
    const none = await fetch(`${url}/status`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="keel"');
    expect(await none.text()).toMatch(/needs "Authorization: Bearer <token>"/);
    for (const header of [
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(1)}`,
      TOKEN,
      `Basic ${TOKEN}`,
      'Bearer ',
    ]) {
      const r = await fetch(`${url}/status`, { headers: { authorization: header } });
      expect(r.status, header).toBe(401);
      expect(await r.text()).toBe('unauthorized: wrong admin token\n');
    }
    expect((await fetch(`${url}/snapshot`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('serves the request with the token (the scheme in any case)', async () => {
    const url = await start(TOKEN);
    for (const header of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`]) {
      const r = await fetch(`${url}/status`, { headers: { authorization: header } });
      expect(r.status, header).toBe(200);
      expect(((await r.json()) as { id: string }).id).toBe('a');
    }
    const snap = await fetch(`${url}/snapshot`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(snap.status).toBe(202);
  });

  it('without a token, serves everyone as before', async () => {
    const url = await start(null);
    expect((await fetch(`${url}/status`)).status).toBe(200);
  });
});

describe('fault injection over admin HTTP', () => {
  it('isolates and heals only a member started with it, and only with the token', async () => {
    isolations.length = 0;
    const off = await start(null);
    const refused = await fetch(`${off}/isolate`, { method: 'POST' });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(/--fault-injection/);
    await server?.close();
    const on = await start(TOKEN, true);
    expect((await fetch(`${on}/isolate`, { method: 'POST' })).status).toBe(401);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const isolated = await fetch(`${on}/isolate`, { method: 'POST', headers: auth });
    expect(await isolated.json()).toEqual({ ok: true, isolated: true });
    const healed = await fetch(`${on}/heal`, { method: 'POST', headers: auth });
    expect(await healed.json()).toEqual({ ok: true, isolated: false });
    expect(isolations).toEqual([true, false]);
  });
});
