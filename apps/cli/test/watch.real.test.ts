import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KvClient, type WatchBatch } from '@keel/kv';
import { ClientConnection } from '@keel/transport-zmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClusterFile } from '../src/cluster/ClusterFile.js';
import { ExitCode } from '../src/index.js';
import { realCluster, until, upDetached } from './helpers.js';

// Real processes: a 3-member cluster started by `keel cluster up`; `keel watch` and a KvClient
// watch follow a prefix while the member serving the KvClient's watch is killed (SIGKILL). Both
// must print exactly the revisions written, in order. Every PID is killed in afterAll.
const { main: MAIN, cli, cleanup, dir, tmp } = realCluster('watch');
const opened: KvClient[] = [];

afterAll(async () => {
  await Promise.allSettled(opened.map((c) => c.close()));
  cleanup();
});

function members() {
  const f = readClusterFile(dir);
  if (f === null) throw new Error('no cluster file');
  return f.members;
}

function client(): KvClient {
  const c = new KvClient({
    endpoints: members().map((m) => `127.0.0.1:${m.ports.client}`),
    connect: (a) => new ClientConnection({ address: `tcp://${a}` }),
    // Generous: a write waits out a leader change, which a busy two-core machine can stretch.
    timeoutMs: 30_000,
    attemptTimeoutMs: 500,
  });
  opened.push(c);
  return c;
}

describe.skipIf(!existsSync(MAIN))('keel watch, txn and get --rev against real keel node processes', () => {
  beforeAll(async () => {
    await upDetached(cli);
  }, 60_000);

  it('keel watch and a client watch see every put exactly once, across a SIGKILL of the serving member', async () => {
    const writer = client();
    const start = (await writer.put('w/start', 's')).revision;
    const N = 40;
    // `keel watch` in this process: it stops after N + 1 events (the start put and N more).
    const watching = cli(
      'watch',
      '--prefix',
      'w/',
      '--rev',
      String(start),
      '--limit',
      String(N + 1),
      '--json',
      '--timeout',
      '30s',
    );
    const batches: WatchBatch[] = [];
    const stream = client().watch('w/', {
      prefix: true,
      fromRevision: start,
      progress: true,
      progressMs: 300,
    });
    const written = [start];
    let killed = false;
    let last = Number.POSITIVE_INFINITY;
    const reading = (async () => {
      for await (const b of stream) {
        batches.push(b);
        if (!killed && b.events.length > 0) {
          killed = true;
          const m = members().find((x) => `127.0.0.1:${x.ports.client}` === b.endpoint)!;
          process.kill(m.pid!, 'SIGKILL');
        }
        if (b.revision >= last) return;
      }
    })();
    for (let i = 0; i < N; i++) {
      written.push((await writer.put(`w/${i % 4}`, `v${i}`)).revision);
      if (i === 0)
        await until('the client watch to kill its member', 30_000, () => (killed ? true : undefined));
    }
    last = written[written.length - 1]!;
    await reading;
    const seen = batches.flatMap((b) => b.events.map((e) => e.kv.modRevision));
    expect(seen).toEqual(written);
    expect(new Set(batches.map((b) => b.endpoint)).size).toBeGreaterThan(1);

    const r = await watching;
    expect(r.err).toEqual([]);
    expect(r.code).toBe(ExitCode.Ok);
    const events = r.out.map(
      (l) => JSON.parse(l) as { type: string; revision: number; key: string; value: string },
    );
    expect(events.map((e) => e.revision)).toEqual(written);
    expect(events[1]).toMatchObject({ type: 'put', key: 'w/0', value: 'v0' });
  }, 120_000);

  it('keel watch with a bad --rev or without a key: exit 2', async () => {
    const bad = await cli('watch', 'k', '--rev', 'x');
    expect(bad.code).toBe(ExitCode.Usage);
    expect(bad.err.join('\n')).toMatch(/--rev must be a positive integer/);
    const missing = await cli('watch');
    expect(missing.code).toBe(ExitCode.Usage);
  });

  it('keel txn: a lock taken once (SUCCESS, exit 0), then refused (FAILURE, exit 1), writes at one revision', async () => {
    const path = join(tmp, 'lock.json');
    writeFileSync(
      path,
      JSON.stringify({
        compare: [{ key: 'lock', exists: false }],
        success: [
          { put: 'lock', value: 'a' },
          { put: 'holder', value: 'a' },
        ],
        failure: [{ get: 'lock' }],
      }),
    );
    const first = await cli('txn', '--file', path, '--json');
    expect(first.err).toEqual([]);
    expect(first.code).toBe(ExitCode.Ok);
    const doc = JSON.parse(first.out[0]!) as { succeeded: boolean; revision: number };
    expect(doc).toMatchObject({
      succeeded: true,
      results: [
        { type: 'put', version: 1 },
        { type: 'put', version: 1 },
      ],
    });
    const kv = client();
    expect((await kv.get('holder')).kv?.modRevision).toBe(doc.revision);
    expect((await kv.get('lock')).kv?.modRevision).toBe(doc.revision);
    const second = await cli('txn', '--file', path);
    expect(second.code).toBe(ExitCode.Failure);
    expect(second.out).toEqual(['FAILURE', 'a']);
    const bad = await cli('txn', '--file', join(tmp, 'missing.json'));
    expect(bad.code).toBe(ExitCode.Usage);
  });

  it('keel get <key> --rev N: the value as of revision N', async () => {
    const kv = client();
    const first = await kv.put('history/k', 'one');
    await kv.put('history/k', 'two');
    const then = await cli('get', 'history/k', '--rev', String(first.revision));
    expect(then.err).toEqual([]);
    expect(then.out).toEqual(['one']);
    expect((await cli('get', 'history/k')).out).toEqual(['two']);
    const future = await cli('get', 'history/k', '--rev', String(first.revision + 1000));
    expect(future.code).toBe(ExitCode.Failure);
    expect(future.err.join('\n')).toMatch(/future-revision/);
    expect((await cli('get', '--prefix', 'history/', '--rev', '1')).code).toBe(ExitCode.Usage);
  });
});
