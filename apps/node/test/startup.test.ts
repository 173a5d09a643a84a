import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { KvClient, KvClientError } from '@keel/kv';
import { checkExposition } from '@keel/server/testing';
import { ClientConnection } from '@keel/transport-zmq';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts, killAll, startNode, status, tempDir, waitFor } from './helpers/procs.js';

afterEach(killAll);

function dir(): string {
  return tempDir('keel-node-');
}

async function single(dataDir: string, id = 'n1') {
  const [peer, client, http] = await freePorts(3);
  const args = [
    '--id',
    id,
    '--peers',
    `${id}=127.0.0.1:${peer}`,
    '--client-bind',
    `127.0.0.1:${client}`,
    '--http',
    `127.0.0.1:${http}`,
    '--data-dir',
    dataDir,
  ];
  return { args, http: http!, peer: peer! };
}

describe('keel node as a process', () => {
  it('a one-member cluster elects itself, serves /status, /healthz, /metrics, and exits 0 on SIGTERM', async () => {
    const d = dir();
    const { args, http } = await single(d);
    const p = startNode(args);
    const s = await waitFor('leader', async () => {
      const st = await status(http);
      return st.role === 'leader' ? st : undefined;
    });
    expect(s.id).toBe('n1');
    const health = await fetch(`http://127.0.0.1:${http}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    expect(metrics).toMatch(/keel_raft_term\{node_id="n1"\} \d+/);
    expect(metrics).toContain('keel_wal_append_durable_seconds_bucket');
    expect(metrics).toContain(`keel_raft_leader{leader="n1",node_id="n1"} 1`);
    // The KV member's own series: the store's size and every request kind, from start.
    expect(metrics).toContain('keel_kv_keys{node_id="n1"} 0');
    expect(metrics).toContain('keel_leases{node_id="n1"} 0');
    expect(metrics).toContain('keel_lease_expired_total{node_id="n1"} 0');
    expect(metrics).toContain('keel_kv_bytes{node_id="n1"} 0');
    expect(metrics).toContain('keel_client_requests_total{kind="incr",node_id="n1"} 0');
    expect(metrics).toContain('keel_client_requests_total{kind="malformed",node_id="n1"} 0');
    expect(checkExposition(metrics)).toEqual([]);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(readdirSync(d).sort()).toEqual(['member.json', 'snap', 'wal']);
  });

  it('reports a state hash in /status?hash=1 and, when asked, publishes what its WAL has fsynced', async () => {
    const d = dir();
    const { args, http } = await single(d);
    const syncFile = join(d, 'wal-sync.json');
    const p = startNode(args, { KEEL_TEST_WAL_SYNC_FILE: syncFile });
    const s = await waitFor('leader', async () => {
      const st = await status(http);
      return st.role === 'leader' && st.appliedIndex >= 1 ? st : undefined;
    });
    expect((s as unknown as { stateHash?: string }).stateHash).toBeUndefined(); // only when asked
    const hashed = (await (await fetch(`http://127.0.0.1:${http}/status?hash=1`)).json()) as {
      stateHash: string;
    };
    expect(hashed.stateHash).toMatch(/^[0-9a-f]{8}$/);
    const published = JSON.parse(readFileSync(syncFile, 'utf8')) as {
      pid: number;
      segments: { file: string; syncedBytes: number; nameDurable: boolean }[];
    };
    expect(published.pid).toBe(p.child.pid);
    expect(published.segments[0]!.syncedBytes).toBeGreaterThan(32);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('refuses a port in use with one line and exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as import('node:net').AddressInfo).port;
    try {
      const d = dir();
      const { args } = await single(d);
      args[3] = `n1=127.0.0.1:${port}`;
      const p = startNode(args);
      expect(await p.exited).toBe(1);
      expect(p.stderr.trim()).toBe(`keel node: peer address 127.0.0.1:${port} is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('refuses a data dir it cannot write', async () => {
    const file = join(dir(), 'plain-file');
    writeFileSync(file, 'x');
    const { args } = await single(join(file, 'data'));
    const p = startNode(args);
    expect(await p.exited).toBe(1);
    expect(p.stderr).toMatch(/^keel node: data dir .* is not writable \(ENOTDIR\)\n$/);
  });

  // Node's recursive mkdir loops forever where mkdir answers ENOENT under an existing parent, as
  // procfs does: the member spun at 100 % CPU and did not even take SIGTERM.
  it.skipIf(!existsSync('/proc/self'))('refuses a data dir it cannot create, at once (procfs)', async () => {
    const { args } = await single(`/proc/keel-nope-${process.pid}/data`);
    const p = startNode(args);
    expect(await p.exited).toBe(1);
    expect(p.stderr).toMatch(
      /^keel node: data dir \/proc\/keel-nope-\d+\/data is not writable \(ENOENT\)\n$/,
    );
  });

  it("refuses another member's data dir", async () => {
    const d = dir();
    const first = await single(d, 'n1');
    const p1 = startNode(first.args);
    await waitFor('leader', async () => ((await status(first.http)).role === 'leader' ? true : undefined));
    p1.child.kill('SIGTERM');
    expect(await p1.exited).toBe(0);
    const second = await single(d, 'n2');
    const p2 = startNode(second.args);
    expect(await p2.exited).toBe(2);
    expect(p2.stderr).toContain(
      `keel node: data dir ${d} belongs to member 'n1' of cluster 'keel', not 'n2' of 'keel'`,
    );
  });

  it('refuses a corrupt WAL, naming the file', async () => {
    const d = dir();
    const first = await single(d);
    const p1 = startNode(first.args);
    await waitFor('leader', async () => ((await status(first.http)).role === 'leader' ? true : undefined));
    p1.child.kill('SIGTERM');
    await p1.exited;
    const wal = join(d, 'wal');
    const seg = readdirSync(wal)
      .filter((f) => !f.startsWith('.'))
      .sort()[0]!;
    writeFileSync(join(wal, seg), Buffer.alloc(64, 0xab), { flag: 'r+' });
    const p2 = startNode(first.args);
    expect(await p2.exited).toBe(1);
    expect(p2.stderr).toMatch(/^keel node: cannot open the WAL: .*/);
    expect(p2.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('prints one line for a configuration mistake (exit 2), never a stack trace', async () => {
    const p = startNode([
      '--id',
      'n1',
      '--peers',
      'n2=127.0.0.1:1',
      '--client-bind',
      '127.0.0.1:2',
      '--data-dir',
      'x',
    ]);
    expect(await p.exited).toBe(2);
    expect(p.stderr).toBe("keel node: member id 'n1' is not among the peers (n2)\n");
  });
  it('--watch-history bounds the window a watch can start from: older revisions are compacted', async () => {
    const d = dir();
    const { args, http } = await single(d);
    const client = args[args.indexOf('--client-bind') + 1]!;
    const p = startNode([...args, '--watch-history', '3']);
    await waitFor('leader', async () => ((await status(http)).role === 'leader' ? true : undefined));
    const kv = new KvClient({
      endpoints: [client],
      connect: (a) => new ClientConnection({ address: `tcp://${a}` }),
    });
    try {
      for (let i = 1; i <= 6; i++) await kv.put('k', String(i));
      const from = async (rev: number) => {
        for await (const batch of kv.watch('k', { fromRevision: rev }))
          return batch.events.map((e) => e.kv.modRevision);
        return [];
      };
      // Revisions 4..6 are the three kept; 3 is gone.
      expect(await from(4)).toEqual([4, 5, 6]);
      const err = await from(3).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KvClientError);
      expect((err as KvClientError).code).toBe('KEEL_CLIENT_COMPACTED');
      expect((err as KvClientError).oldestRevision).toBe(4);
    } finally {
      await kv.close();
    }
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});
