import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvClient } from '@keel/kv';
import { writeKeyPairFiles } from '@keel/node';
import { addressList, fetchStatus, killAllStarted, launchMember, useAdminToken, waitFor } from '@keel/ops';
import { ClientConnection, generateKeyPair } from '@keel/transport-zmq';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MEMBER_PROGRAM } from '../src/cluster.js';
import { NETNS_PORTS, NetnsNetwork, netnsUnavailable } from '../src/netns.js';
import { MEMBER_BUILT } from './helpers.js';

// Three `keel node` members, each in its own network namespace with its own address (hosts in
// miniature, see tools/chaos/src/netns.ts), secured with CURVE keys and an admin token; this
// process reaches them over the bridge as a client would from another host.
const MAIN = MEMBER_PROGRAM;
const TOKEN = 'netns-token-0123456789abcdef';
let net: NetnsNetwork | null = null;
const tmp = { path: mkdtempSync(join(tmpdir(), 'keel-secure-netns-')) };

afterEach(async () => {
  killAllStarted();
  useAdminToken(null);
  await net?.close();
  net = null;
});
afterAll(() => rmSync(tmp.path, { recursive: true, force: true }));

const why = netnsUnavailable() ?? (MEMBER_BUILT ? null : 'apps/node is not built');
if (why !== null) console.log(`secure netns test skipped: ${why}`);

describe.skipIf(why !== null)('a secured cluster across network namespaces', () => {
  it('elects and serves a keyed client from another host; a keyless client and a tokenless admin call are refused', async () => {
    const n = 3;
    net = NetnsNetwork.create(n);
    const network = net;
    const ids = ['n1', 'n2', 'n3'];
    const keys = join(tmp.path, 'keys');
    const clientsDir = join(keys, 'clients');
    mkdirSync(clientsDir, { recursive: true });
    const pairs = new Map(ids.map((id) => [id, generateKeyPair()]));
    for (const [id, pair] of pairs) writeKeyPairFiles(keys, id, pair);
    const client = generateKeyPair();
    writeKeyPairFiles(clientsDir, 'app', client);
    const token = join(tmp.path, 'admin.token');
    writeFileSync(token, `${TOKEN}\n`, { mode: 0o600 });
    const at = (i: number, kind: keyof typeof NETNS_PORTS) => network.hostPort(i, NETNS_PORTS[kind]);
    const peers = addressList(ids, (_id, i) => at(i, 'peer'));
    const clients = addressList(ids, (_id, i) => at(i, 'client'));
    ids.forEach((id, i) => {
      launchMember({
        id,
        command: [
          ...network.wrapper(i),
          process.execPath,
          MAIN,
          '--id',
          id,
          '--peers',
          peers,
          '--clients',
          clients,
          '--peer-bind',
          `0.0.0.0:${NETNS_PORTS.peer}`,
          '--client-bind',
          `0.0.0.0:${NETNS_PORTS.client}`,
          '--http',
          `0.0.0.0:${NETNS_PORTS.http}`,
          '--data-dir',
          join(tmp.path, id),
          '--curve-secret-key-file',
          join(keys, `${id}.key`),
          '--curve-peer-keys',
          keys,
          '--curve-client-keys',
          clientsDir,
          '--admin-token-file',
          token,
        ],
        env: { ...process.env, KEEL_LOG_LEVEL: 'warn' },
        output: 'pipe',
      });
    });
    useAdminToken(TOKEN);
    await waitFor(
      'a leader all three members name',
      async () => {
        const seen = await Promise.all(ids.map((_id, i) => fetchStatus(at(i, 'http'), 1000)));
        const leader = seen[0]?.leader ?? null;
        return leader !== null && seen.every((s) => s?.leader === leader) ? leader : undefined;
      },
      30_000,
    );
    const keyOf = new Map(ids.map((id, i) => [at(i, 'client'), pairs.get(id)!.publicKey]));
    const kv = (withKey: boolean) =>
      new KvClient({
        endpoints: ids.map((_id, i) => at(i, 'client')),
        timeoutMs: withKey ? 20_000 : 3000,
        connect: (a) =>
          new ClientConnection({
            address: `tcp://${a}`,
            ...(withKey ? { curve: { ...client, serverPublicKey: keyOf.get(a)! } } : {}),
          }),
      });
    const keyed = kv(true);
    try {
      await keyed.put('k', 'v');
      expect(new TextDecoder().decode((await keyed.get('k')).kv!.value)).toBe('v');
    } finally {
      await keyed.close();
    }
    const keyless = kv(false);
    try {
      await expect(keyless.get('k')).rejects.toThrow(
        /does the member require CURVE\? give this client a key/,
      );
    } finally {
      await keyless.close();
    }
    expect((await fetch(`http://${at(0, 'http')}/status`)).status).toBe(401);
  }, 90_000);
});
