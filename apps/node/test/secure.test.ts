import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KvClient, KvClientError } from '@keel/kv';
import { addressList, fetchStatus, useAdminToken } from '@keel/ops';
import { ClientConnection, generateKeyPair, keyFingerprint } from '@keel/transport-zmq';
import { afterEach, describe, expect, it } from 'vitest';
import { type KeyPairFile, writeKeyPairFiles } from '../src/keyFiles.js';
import { freePorts, killAll, type Proc, startNode, tempDir, waitFor } from './helpers/procs.js';

afterEach(async () => {
  useAdminToken(null);
  await killAll();
});

const TOKEN = 'test-token-0123456789abcdef';
// Long enough that a busy machine does not start elections of its own while we watch the terms.
const ELECTION_MS = '1000';

interface Keys {
  readonly dir: string;
  readonly pairs: Map<string, KeyPairFile>;
  readonly tokenFile: string;
}

/** Key pairs for the members and a client, the way `keel keygen --out` writes them. */
function makeKeys(ids: readonly string[]): Keys {
  const dir = tempDir('keel-keys-');
  const pairs = new Map<string, KeyPairFile>();
  for (const id of [...ids, 'client']) {
    const pair = generateKeyPair();
    pairs.set(id, pair);
    writeKeyPairFiles(id === 'client' ? mkdirAt(join(dir, 'clients')) : dir, id, pair);
  }
  const tokenFile = join(dir, 'admin.token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  return { dir, pairs, tokenFile };
}

function mkdirAt(d: string): string {
  mkdirSync(d, { recursive: true });
  return d;
}

interface SecureMember {
  readonly id: string;
  readonly client: string;
  readonly http: string;
  readonly args: string[];
  proc: Proc;
}

async function secureCluster(ids: readonly string[], keys: Keys): Promise<SecureMember[]> {
  const ports = await freePorts(ids.length * 3);
  const peers = addressList(ids, (_id, i) => `127.0.0.1:${ports[i * 3]}`);
  const clients = addressList(ids, (_id, i) => `127.0.0.1:${ports[i * 3 + 1]}`);
  return ids.map((id, i) => ({
    id,
    client: `127.0.0.1:${ports[i * 3 + 1]}`,
    http: `127.0.0.1:${ports[i * 3 + 2]}`,
    args: [
      '--id',
      id,
      '--peers',
      peers,
      '--clients',
      clients,
      '--http',
      `127.0.0.1:${ports[i * 3 + 2]}`,
      '--data-dir',
      tempDir(`keel-${id}-`),
      '--election-timeout',
      ELECTION_MS,
      '--heartbeat-interval',
      '100',
      '--curve-secret-key-file',
      join(keys.dir, `${id}.key`),
      '--curve-peer-keys',
      keys.dir,
      '--curve-client-keys',
      join(keys.dir, 'clients'),
      '--admin-token-file',
      keys.tokenFile,
    ],
    proc: null as unknown as Proc,
  }));
}

function start(m: SecureMember, args: readonly string[] = m.args): SecureMember {
  m.proc = startNode(args, { KEEL_LOG_LEVEL: 'info' });
  return m;
}

async function terms(members: readonly SecureMember[]): Promise<{ term: number; leader: string | null }[]> {
  return Promise.all(
    members.map(async (m) => {
      const s = await fetchStatus(m.http, 1000);
      if (s === null) throw new Error(`no status from ${m.id}`);
      return { term: s.term, leader: s.leader };
    }),
  );
}

/** The leader all of `members` name, once they agree. */
function agreed(members: readonly SecureMember[]): Promise<string> {
  return waitFor(
    'a leader the members agree on',
    async () => {
      const seen = await terms(members).catch(() => []);
      const leader = seen[0]?.leader ?? null;
      return seen.length === members.length && leader !== null && seen.every((s) => s.leader === leader)
        ? leader
        : undefined;
    },
    30_000,
  );
}

function secureClient(members: readonly SecureMember[], keys: Keys, client: KeyPairFile | null): KvClient {
  const serverKey = new Map(members.map((m) => [m.client, keys.pairs.get(m.id)!.publicKey]));
  return new KvClient({
    endpoints: members.map((m) => m.client),
    members: new Map(members.map((m) => [m.id, m.client])),
    timeoutMs: 5000,
    connect: (a) =>
      new ClientConnection({
        address: `tcp://${a}`,
        ...(client === null ? {} : { curve: { ...client, serverPublicKey: serverKey.get(a)! } }),
      }),
  });
}

describe('keel node with CURVE keys and an admin token', () => {
  it('a secured 3-member cluster elects and serves keyed clients; the admin API wants the token', async () => {
    const ids = ['n1', 'n2', 'n3'];
    const keys = makeKeys(ids);
    const members = (await secureCluster(ids, keys)).map((m) => start(m));
    useAdminToken(TOKEN);
    await agreed(members);
    const kv = secureClient(members, keys, keys.pairs.get('client')!);
    try {
      await kv.put('k', 'v');
      expect(new TextDecoder().decode((await kv.get('k')).kv!.value)).toBe('v');
    } finally {
      await kv.close();
    }
    // No token: 401 with a clear body; /healthz stays open for probes.
    const http = members[0]!.http;
    const bare = await fetch(`http://${http}/status`);
    expect(bare.status).toBe(401);
    expect(await bare.text()).toMatch(/Authorization: Bearer/);
    const wrong = await fetch(`http://${http}/members`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    // 200 with a leader known, 503 without: either way not refused (which member leads may change).
    expect([200, 503]).toContain((await fetch(`http://${http}/healthz`)).status);
    // Secured: no "unauthenticated" warning at startup.
    for (const m of members) expect(m.proc.stdout).not.toMatch(/unauthenticated/);
  });

  it('a client without a key, or with a key not allowed, gets a clear error and nothing runs', async () => {
    const ids = ['n1'];
    const keys = makeKeys(ids);
    const members = (await secureCluster(ids, keys)).map((m) => start(m));
    useAdminToken(TOKEN);
    await agreed(members);
    for (const client of [null, generateKeyPair()]) {
      const kv = secureClient(members, keys, client);
      try {
        const err = await kv.put('k', 'v', { timeoutMs: 2000 }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(KvClientError);
        expect((err as KvClientError).message).toMatch(
          client === null
            ? /does the member require CURVE\? give this client a key/
            : new RegExp(
                `refused our CURVE key ${keyFingerprint(client.publicKey)}: it is not among its client keys`,
              ),
        );
      } finally {
        await kv.close();
      }
    }
  });

  it('a member with a wrong key cannot join or move the others’ terms, and is logged once per key', async () => {
    const ids = ['n1', 'n2', 'n3'];
    const keys = makeKeys(ids);
    const [n1, n2, n3] = await secureCluster(ids, keys);
    start(n1!);
    start(n2!);
    useAdminToken(TOKEN);
    await agreed([n1!, n2!]);
    const before = await terms([n1!, n2!]);
    // An impostor in n3's place: the right peer list, a key pair nobody listed.
    const impostorDir = tempDir('keel-impostor-');
    const impostor = generateKeyPair();
    writeKeyPairFiles(impostorDir, 'n3', impostor);
    const args = [...n3!.args];
    args[args.indexOf('--curve-secret-key-file') + 1] = join(impostorDir, 'n3.key');
    // Its peer keys as a list file: the genuine n3.pub in keys.dir would not match its pair.
    const list = join(impostorDir, 'peers.txt');
    writeFileSync(
      list,
      `# member keys\nn1=${keys.pairs.get('n1')!.publicKey}\nn2=${keys.pairs.get('n2')!.publicKey}\n`,
    );
    args[args.indexOf('--curve-peer-keys') + 1] = list;
    start(n3!, args);
    // It hears no leader, so it campaigns (pre-vote first) again and again, unheard: let it run
    // for several election timeouts.
    await waitFor(
      'the impostor running for six election timeouts',
      async () =>
        ((await fetchStatus(n3!.http, 1000))?.uptimeMs ?? 0) >= 6 * Number(ELECTION_MS) || undefined,
      30_000,
    );
    const after = await terms([n1!, n2!]);
    expect(after).toEqual(before);
    const fingerprint = keyFingerprint(impostor.publicKey);
    for (const m of [n1!, n2!]) {
      const refused = m.proc.stdout.split('\n').filter((l) => l.includes(fingerprint));
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatch(
        /peer connection from .* refused: key sha256:[0-9a-f]{16} is not a member's/,
      );
    }
    // The impostor is told, once per member it dials.
    const told = n3!.proc.stdout.split('\n').filter((l) => /refused our CURVE key/.test(l));
    expect(told.map((l) => (JSON.parse(l) as { peer: string }).peer).sort()).toEqual(['n1', 'n2']);
  });
});
