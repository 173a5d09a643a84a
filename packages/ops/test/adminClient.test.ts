import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminJson, asMemberStatus, fetchStatus, freePorts } from '../src/index.js';

const STATUS = {
  id: 'n1',
  role: 'leader',
  term: 3,
  leader: 'n1',
  commitIndex: 9,
  appliedIndex: 9,
  lastIndex: 9,
};

let server: Server;
let http = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/status') res.end(JSON.stringify(STATUS));
      else if (req.url === '/status?hash=1') res.end(JSON.stringify({ ...STATUS, stateHash: 'ab' }));
      else if (req.url === '/echo') res.writeHead(201).end(JSON.stringify({ method: req.method, body }));
      else res.writeHead(404).end('not json');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  http = `127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('adminJson', () => {
  it('GETs, and POSTs a JSON body, answering status and parsed reply', async () => {
    expect(await adminJson(http, '/status', 1000)).toEqual({ status: 200, json: STATUS });
    expect(await adminJson(http, '/echo', 1000, { a: 1 })).toEqual({
      status: 201,
      json: { method: 'POST', body: '{"a":1}' },
    });
  });

  it('answers null for a reply that is not JSON, or nobody listening', async () => {
    expect(await adminJson(http, '/missing', 1000)).toBeNull();
    const [port] = await freePorts(1);
    expect(await adminJson(`127.0.0.1:${port}`, '/status', 500)).toBeNull();
  });
});

describe('fetchStatus', () => {
  it('returns a member status, with the query passed through', async () => {
    expect((await fetchStatus(http))?.role).toBe('leader');
    expect((await fetchStatus(http, 1000, '?hash=1'))?.stateHash).toBe('ab');
  });

  it('is null when nobody answers', async () => {
    const [port] = await freePorts(1);
    expect(await fetchStatus(`127.0.0.1:${port}`, 300)).toBeNull();
  });
});

describe('asMemberStatus', () => {
  it('accepts a status and refuses what lacks its core fields', () => {
    expect(asMemberStatus(STATUS)).toBe(STATUS);
    expect(asMemberStatus({ hello: 'world' })).toBeNull();
    expect(asMemberStatus({ ...STATUS, term: '3' })).toBeNull();
    expect(asMemberStatus({ ...STATUS, leader: 7 })).toBeNull();
    expect(asMemberStatus(null)).toBeNull();
  });
});
