import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HeartbeatMessage } from '@keel/core';
import { encodeBatch } from '@keel/core/codec';
import { KvClient } from '@keel/kv';
import { ClientConnection } from '@keel/transport-zmq';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts, killAll, type Proc, startNode, status, waitFor } from './helpers/procs.js';

/**
 * Issue #22 on real processes: a peer frame whose routing id (or sender id) is `__proto__`, and an
 * admin request adding a member `__proto__`, are refused with a clear error and counted, while the
 * cluster goes on serving writes.
 */

// A raw DEALER stands in for a hostile peer. zeromq is the transport package's dependency, not
// this app's: load it from there (a test-only reach; the app itself never touches zeromq).
interface RawDealer {
  connect(address: string): void;
  send(frame: Uint8Array): Promise<void>;
  close(): void;
}
const zmq = createRequire(
  fileURLToPath(new URL('../../../packages/transport-zmq/package.json', import.meta.url)),
)('zeromq') as { Dealer: new (o: { routingId: string; linger: number }) => RawDealer };

const dealers: RawDealer[] = [];
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'keel-ids-'));
  dirs.push(d);
  return d;
}
const clients: KvClient[] = [];
afterEach(async () => {
  for (const d of dealers.splice(0)) d.close();
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  await killAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Node {
  readonly id: string;
  readonly peer: number;
  readonly client: number;
  readonly http: number;
  readonly proc: Proc;
}

async function cluster(ids: readonly string[]): Promise<Node[]> {
  const ports = await freePorts(ids.length * 3);
  const at = (i: number, k: number) => ports[i * 3 + k]!;
  const peers = ids.map((id, i) => `${id}=127.0.0.1:${at(i, 0)}`).join(',');
  const clientList = ids.map((id, i) => `${id}=127.0.0.1:${at(i, 1)}`).join(',');
  return ids.map((id, i) => {
    const dataDir = tempDir();
    const args = ['--id', id, '--peers', peers, '--clients', clientList, '--http', `127.0.0.1:${at(i, 2)}`];
    return {
      id,
      peer: at(i, 0),
      client: at(i, 1),
      http: at(i, 2),
      proc: startNode([...args, '--data-dir', dataDir]),
    };
  });
}

function heartbeat(from: string, to: string): HeartbeatMessage {
  return { type: 'heartbeat', from, to, term: 1, commit: 0, context: 0 };
}

function rawPeer(routingId: string, port: number): RawDealer {
  const d = new zmq.Dealer({ routingId, linger: 0 });
  dealers.push(d);
  d.connect(`tcp://127.0.0.1:${port}`);
  return d;
}

async function rejected(n: Node, reason: string): Promise<number> {
  const text = await (
    await fetch(`http://127.0.0.1:${n.http}/metrics`, { signal: AbortSignal.timeout(2000) })
  ).text();
  const m = new RegExp(
    `^keel_peer_frames_rejected_total\\{reason="${reason}",node_id="${n.id}"\\} (\\d+)$`,
    'm',
  ).exec(text);
  return m === null ? -1 : Number(m[1]);
}

describe('hostile member ids against real keel node processes (issue #22)', () => {
  it('a peer frame from routing id __proto__ and POST /members with id __proto__ are refused; writes go on', async () => {
    const nodes = await cluster(['n1', 'n2', 'n3']);
    const kv = new KvClient({
      endpoints: nodes.map((n) => `127.0.0.1:${n.client}`),
      members: new Map(nodes.map((n) => [n.id, `127.0.0.1:${n.client}`])),
      connect: (a) => new ClientConnection({ address: `tcp://${a}` }),
      timeoutMs: 20_000,
    });
    clients.push(kv);
    await waitFor(
      'every member up, one of them leading',
      async () => {
        const all = await Promise.all(nodes.map((n) => status(n.http).catch(() => null)));
        return all.every((s) => s !== null) && all.some((s) => s?.role === 'leader') ? true : undefined;
      },
      30_000,
    );
    expect(await kv.put('before', 'x')).toMatchObject({ ok: true });

    const target = nodes[1]!;
    // Routing id __proto__ (no member id), constructor (a valid id, but no member), and a frame
    // from a member's routing id whose header names the sender __proto__.
    await rawPeer('__proto__', target.peer).send(encodeBatch([heartbeat('n1', target.id)]));
    await rawPeer('constructor', target.peer).send(encodeBatch([heartbeat('n1', target.id)]));
    const spoofed = Buffer.from(encodeBatch([heartbeat('x________', target.id)]));
    spoofed.write('__proto__', spoofed.indexOf('x________'), 'latin1');
    await rawPeer('n3', target.peer).send(spoofed);
    await waitFor('the frames counted', async () =>
      (await rejected(target, 'invalid-routing-id')) >= 1 &&
      (await rejected(target, 'unknown-peer')) >= 1 &&
      (await rejected(target, 'invalid-member-id')) >= 1
        ? true
        : undefined,
    );

    for (const n of nodes) {
      const res = await fetch(`http://127.0.0.1:${n.http}/members`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'add', id: '__proto__', peer: '127.0.0.1:1' }),
        signal: AbortSignal.timeout(5000),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        ok: false,
        reason: 'bad-request',
        code: 'KEEL_INVALID_MEMBER_ID',
        message:
          'id "__proto__" is invalid: must be 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit',
      });
    }

    // Still serving: every write is acknowledged and read back, and no member died.
    for (let i = 0; i < 20; i++) expect(await kv.put(`after/${i}`, `v${i}`)).toMatchObject({ ok: true });
    const got = await kv.get('after/19');
    expect(got.ok && got.kv !== null ? Buffer.from(got.kv.value).toString() : null).toBe('v19');
    for (const n of nodes) expect(n.proc.child.exitCode).toBeNull();
    const members = (await (await fetch(`http://127.0.0.1:${target.http}/members`)).json()) as {
      members: { id: string }[];
    };
    expect(members.members.map((m) => m.id).sort()).toEqual(['n1', 'n2', 'n3']);
  }, 90_000);

  it('refuses --id __proto__ with one line and exit 2', async () => {
    const [peer, client] = await freePorts(2);
    const p = startNode([
      '--id',
      '__proto__',
      '--peers',
      `__proto__=127.0.0.1:${peer}`,
      '--client-bind',
      `127.0.0.1:${client}`,
      '--data-dir',
      tempDir(),
    ]);
    expect(await p.exited).toBe(2);
    const lines = p.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('--id "__proto__" is invalid');
  });
});
