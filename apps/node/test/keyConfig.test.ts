import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair } from '@keel/transport-zmq';
import { afterEach, describe, expect, it } from 'vitest';
import { parseNodeConfig } from '../src/config.js';
import { readPeerKeys, writeKeyPairFiles } from '../src/keyFiles.js';
import { base, error } from './helpers/config.js';
import { freePorts, killAll, startNode, tempDir } from './helpers/procs.js';

afterEach(killAll);

/** A key dir with n1 and n2 (`<id>.key` and `<id>.pub`), a client dir, and a token file. */
function keyDir(): { dir: string; clients: string; token: string } {
  const dir = tempDir('keel-keycfg-');
  for (const id of ['n1', 'n2']) writeKeyPairFiles(dir, id, generateKeyPair());
  const clients = join(dir, 'clients');
  mkdirSync(clients);
  writeKeyPairFiles(clients, 'cli', generateKeyPair());
  const token = join(dir, 'admin.token');
  writeFileSync(token, 'a-token-of-enough-length\n', { mode: 0o600 });
  return { dir, clients, token };
}

function secure(k: { dir: string; clients: string }): string[] {
  return [
    '--curve-secret-key-file',
    join(k.dir, 'n1.key'),
    '--curve-peer-keys',
    k.dir,
    '--curve-client-keys',
    k.clients,
  ];
}

describe('keel node key flags', () => {
  it('reads the key pair, the peer keys by id and the client keys', () => {
    const k = keyDir();
    const c = parseNodeConfig([...base, ...secure(k)]);
    if (c === 'help') throw new Error('unexpected help');
    expect(c.curve?.publicKey).toHaveLength(40);
    expect([...(c.curve?.peerKeys.keys() ?? [])]).toEqual(['n1', 'n2']);
    expect(c.curve?.clientKeys).toHaveLength(1);
    expect(c.adminToken).toBeUndefined();
  });

  it('takes them from the environment and from a config file like the other flags', () => {
    const k = keyDir();
    const env = {
      KEEL_CURVE_SECRET_KEY_FILE: join(k.dir, 'n1.key'),
      KEEL_CURVE_PEER_KEYS: k.dir,
      KEEL_CURVE_CLIENT_KEYS: k.clients,
      KEEL_ADMIN_TOKEN_FILE: k.token,
    };
    const c = parseNodeConfig(base, env);
    if (c === 'help') throw new Error('unexpected help');
    expect(c.curve).toBeDefined();
    expect(c.adminToken).toBe('a-token-of-enough-length');
    const file = join(k.dir, 'node.json');
    writeFileSync(
      file,
      JSON.stringify({
        curveSecretKeyFile: join(k.dir, 'n1.key'),
        curvePeerKeys: k.dir,
        curveClientKeys: k.clients,
      }),
    );
    const f = parseNodeConfig([...base, '--config', file]);
    if (f === 'help') throw new Error('unexpected help');
    expect(f.curve).toBeDefined();
  });

  it('says in one line what is wrong with a key flag', () => {
    const k = keyDir();
    expect(error([...base, '--curve-secret-key-file', join(k.dir, 'n1.key')])).toBe(
      'CURVE needs all three key flags: missing --curve-peer-keys, --curve-client-keys',
    );
    const args = secure(k);
    args[1] = join(k.dir, 'nope.key');
    expect(error([...base, ...args])).toMatch(
      /^cannot read --curve-secret-key-file .*nope\.key: no such file$/,
    );
    chmodSync(join(k.dir, 'n1.key'), 0o644);
    expect(error([...base, ...secure(k)])).toMatch(/is readable by other users: chmod 600/);
    chmodSync(join(k.dir, 'n1.key'), 0o600);
    writeFileSync(join(k.dir, 'n2.pub'), 'not a key\n');
    expect(error([...base, ...secure(k)])).toMatch(
      /--curve-peer-keys: file .*n2\.pub does not hold one 40-character Z85 key/,
    );
    const list = join(k.dir, 'peers.txt');
    writeFileSync(list, 'n1 = short\n');
    expect(() => readPeerKeys(list)).toThrow(/line 1 is not '<name>=<40-character Z85 key>'/);
  });

  it('binds the admin API to loopback when --http is a bare port', () => {
    const c = parseNodeConfig([...base, '--http', '7201']);
    if (c === 'help') throw new Error('unexpected help');
    expect(c.http).toEqual({ host: '127.0.0.1', port: 7201 });
  });

  it('wants an admin token with --http when keys are given', () => {
    const k = keyDir();
    expect(error([...base, ...secure(k), '--http', '127.0.0.1:9001'])).toMatch(
      /--http needs --admin-token-file/,
    );
    const short = join(k.dir, 'short.token');
    writeFileSync(short, 'abc\n', { mode: 0o600 });
    expect(error([...base, '--admin-token-file', short])).toMatch(/at least 16 printable characters/);
  });

  it('a process with a bad key exits 2 with one line; one without keys names the flags in its warning', async () => {
    const k = keyDir();
    const [peer, client] = await freePorts(2);
    const args = [
      '--id',
      'n1',
      '--peers',
      `n1=127.0.0.1:${peer}`,
      '--client-bind',
      `127.0.0.1:${client}`,
      '--data-dir',
      tempDir('keel-n1-'),
    ];
    writeFileSync(join(k.dir, 'n1.key'), 'public: x\n', { mode: 0o600 });
    const bad = startNode([...args, ...secure(k)]);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^keel node: --curve-secret-key-file .*n1\.key: the public key is not 40 Z85 characters$/,
      ),
    ]);
    const open = startNode(args);
    await expect
      .poll(() => open.stdout, { timeout: 15_000 })
      .toMatch(/unauthenticated and unencrypted: start members with --curve-secret-key-file/);
    open.child.kill('SIGTERM');
    expect(await open.exited).toBe(0);
  });
});
