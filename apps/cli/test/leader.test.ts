import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode, runCli } from '../src/index.js';
import { capture } from './helpers.js';

/**
 * A member's admin API as `keel leader move` sees it: `GET /members` from the leader `n1` (voters
 * n1, n2; learner n3) and `POST /leader`, which hands over to the target only if `obeys`.
 */
function fakeLeader(obeys: boolean): Promise<{ server: Server; endpoint: string; posts: unknown[] }> {
  let leader = 'n1';
  let term = 2;
  const posts: unknown[] = [];
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/leader') {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        const { to } = JSON.parse(body) as { to: string };
        posts.push(to);
        if (obeys) {
          leader = to;
          term += 1;
        }
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, to }));
      });
      return;
    }
    // The fake is every member at once: it answers as whoever leads now.
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        id: leader,
        leader,
        term,
        commitIndex: 10,
        members: [
          { id: 'n1', role: 'voter', peer: '', client: '', http: '', match: 10 },
          { id: 'n2', role: 'voter', peer: '', client: '', http: '', match: 10 },
          { id: 'n3', role: 'learner', peer: '', client: '', http: '', match: 10 },
        ],
      }),
    );
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, endpoint: `127.0.0.1:${port}`, posts });
    }),
  );
}

let server: Server | null = null;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = null;
});

async function move(endpoint: string, ...args: string[]) {
  const c = capture();
  const code = await runCli(['leader', 'move', ...args, '--admin-endpoints', endpoint], c.io);
  return { code, out: c.out, err: c.err };
}

describe('keel leader move', () => {
  it('asks the leader to hand over and returns once the target leads', async () => {
    const f = await fakeLeader(true);
    server = f.server;
    const r = await move(f.endpoint, 'n2');
    expect(r.code).toBe(ExitCode.Ok);
    expect(r.out).toEqual(['n2 leads (term 3; was n1)']);
    expect(f.posts).toEqual(['n2']);
    const again = await move(f.endpoint, 'n2', '--json');
    // The old flag name still works, with one warning line.
    const old = capture();
    expect(await runCli(['leader', 'move', 'n2', '--endpoint', f.endpoint], old.io)).toBe(ExitCode.Ok);
    expect(old.err[0]).toMatch(/--endpoint is deprecated; use --admin-endpoints/);
    expect(JSON.parse(again.out.join(''))).toEqual({ ok: true, leader: 'n2', term: 3, from: 'n2' });
  });

  it('refuses an unknown id and a learner in one line, exit 1, without asking the leader', async () => {
    const f = await fakeLeader(true);
    server = f.server;
    const unknown = await move(f.endpoint, 'n9');
    expect(unknown.code).toBe(ExitCode.Failure);
    expect(unknown.err).toEqual(["keel leader move: unknown member 'n9' (the members are n1, n2, n3)"]);
    const learner = await move(f.endpoint, 'n3');
    expect(learner.code).toBe(ExitCode.Failure);
    expect(learner.err).toEqual([
      'keel leader move: n3 is a learner, not a voter: only a voter can lead (promote it first: keel members promote n3)',
    ]);
    expect(f.posts).toEqual([]);
  });

  it('gives up after --timeout when leadership does not move, naming who still leads', async () => {
    const f = await fakeLeader(false);
    server = f.server;
    const r = await move(f.endpoint, 'n2', '--timeout', '1.5');
    expect(r.code).toBe(ExitCode.Failure);
    expect(r.err.at(-1)).toMatch(
      /^keel leader move: n2 did not take over within 1\.5 s \(the leader is n1\)/,
    );
    expect(f.posts.length).toBeGreaterThanOrEqual(1);
  });

  it('usage errors exit 2', async () => {
    const c = capture();
    expect(await runCli(['leader', 'move'], c.io)).toBe(ExitCode.Usage);
    expect(await runCli(['leader', 'jump', 'n1'], c.io)).toBe(ExitCode.Usage);
    expect(await runCli(['leader', 'move', 'n1', '--timeout', 'x'], c.io)).toBe(ExitCode.Usage);
    expect(c.err.at(-1)).toMatch(/--timeout must be a duration like 500ms, 5s or 2m/);
    expect(c.err.every((l) => l.startsWith('keel leader '))).toBe(true);
  });
});
