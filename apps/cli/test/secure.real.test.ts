import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readClusterFile } from '../src/cluster/ClusterFile.js';
import { memberProgram } from '../src/cluster/paths.js';
import { ExitCode, runCli } from '../src/index.js';
import { capture, ProcessTracker, tempDir, upDetached } from './helpers.js';

// Real processes: `keel cluster up --secure` starts three `keel node` members with CURVE keys and
// an admin token; the CLI's KV commands and `cluster status` use the cluster dir's keys.
const MAIN = memberProgram({});
const tracker = new ProcessTracker();
const tmp = tempDir('secure');
const dir = join(tmp.path, 'cluster');
const env = { ...process.env };
delete env.KEEL_MEMBER_PROGRAM;
delete env.KEEL_CURVE_KEY_FILE;
delete env.KEEL_CURVE_SERVER_KEYS;

afterEach(() => tracker.trackClusterDir(dir));
afterAll(async () => {
  if (readClusterFile(dir) !== null) await cli('cluster', 'down');
  tracker.trackClusterDir(dir);
  tracker.killAll();
  tmp.remove();
});

async function cli(...argv: string[]) {
  const c = capture({ env, cwd: tmp.path }, tracker, MAIN);
  const withDir = argv.includes('--endpoints') || argv[0] === 'keygen' ? argv : [...argv, '--dir', dir];
  const code = await runCli(withDir, c.io);
  tracker.trackClusterDir(dir);
  return { code, out: c.out, err: c.err };
}

const mode = (f: string): number => statSync(f).mode & 0o777;

describe.skipIf(!existsSync(MAIN))('keel cluster up --secure', () => {
  it('keygen --out --id writes <id>.key (0600) and <id>.pub, and refuses to overwrite', async () => {
    const r = await cli('keygen', '--out', 'k', '--id', 'n1');
    expect(r.code).toBe(ExitCode.Ok);
    expect(r.out[1]).toMatch(/^public: \S{40} {2}\(sha256:[0-9a-f]{16}\)$/);
    expect(mode(join(tmp.path, 'k', 'n1.key'))).toBe(0o600);
    expect(existsSync(join(tmp.path, 'k', 'n1.pub'))).toBe(true);
    const again = await cli('keygen', '--out', 'k', '--id', 'n1');
    expect(again.code).toBe(ExitCode.Failure);
    expect(again.err.join('\n')).toMatch(/exists already; not overwritten/);
  });

  it('starts keyed members; KV commands and status just work, strangers are refused clearly', async () => {
    // A keyed start takes longer on a busy machine: the later --timeout wins.
    await upDetached(cli, ['--secure', '--timeout', '30']);
    expect(mode(join(dir, 'keys', 'admin.token'))).toBe(0o600);
    expect(mode(join(dir, 'keys', 'members', 'n1.key'))).toBe(0o600);
    expect(mode(join(dir, 'keys', 'clients', 'cli.key'))).toBe(0o600);

    expect((await cli('put', 'k', 'v', '--timeout', '20')).code).toBe(ExitCode.Ok);
    const got = await cli('get', 'k', '--timeout', '20');
    expect(got.out).toEqual(['v']);
    const status = await cli('cluster', 'status', '--json');
    expect(status.code).toBe(ExitCode.Ok);
    const membersList = await cli('members', 'list', '--json');
    expect(membersList.err).toEqual([]);
    expect(membersList.code).toBe(ExitCode.Ok);
    // add-node would hand the new member another member's key: refused until supported.
    const add = await cli('cluster', 'add-node');
    expect(add.code).toBe(ExitCode.Failure);
    expect(add.err.join('\n')).toMatch(/does not support a --secure cluster/);

    // The admin API without the token: 401; /healthz open.
    const http = `127.0.0.1:${readClusterFile(dir)!.members[0]!.ports.http}`;
    expect((await fetch(`http://${http}/status`)).status).toBe(401);
    expect([200, 503]).toContain((await fetch(`http://${http}/healthz`)).status);

    // A client without a key, and one with a key the members do not know.
    const client = `127.0.0.1:${readClusterFile(dir)!.members[0]!.ports.client}`;
    const plain = await cli('get', 'k', '--endpoints', client, '--timeout', '2');
    expect(plain.code).not.toBe(ExitCode.Ok);
    expect(plain.err.join('\n')).toMatch(/does the member require CURVE\? give this client a key/);
    await cli('keygen', '--out', 'stranger', '--id', 'cli');
    const stranger = await cli(
      'get',
      'k',
      '--timeout',
      '2',
      '--curve-key-file',
      join(tmp.path, 'stranger', 'cli.key'),
    );
    expect(stranger.code).not.toBe(ExitCode.Ok);
    expect(stranger.err.join('\n')).toMatch(
      /refused our CURVE key sha256:[0-9a-f]{16}: it is not among its client keys/,
    );

    // By hand: --endpoints, the client key, and the members' keys by host:port in a list file.
    const list = join(tmp.path, 'servers.txt');
    const members = readClusterFile(dir)!.members;
    writeFileSync(
      list,
      members
        .map(
          (m) =>
            `127.0.0.1:${m.ports.client}=${readFileSync(join(dir, 'keys', 'members', `${m.id}.pub`), 'utf8').trim()}\n`,
        )
        .join(''),
    );
    const byHand = await cli(
      'get',
      'k',
      '--timeout',
      '20',
      '--endpoints',
      members.map((m) => `127.0.0.1:${m.ports.client}`).join(','),
      '--curve-key-file',
      join(dir, 'keys', 'clients', 'cli.key'),
      '--curve-server-keys',
      list,
    );
    expect(byHand.err).toEqual([]);
    expect(byHand.out).toEqual(['v']);

    // Stopped, the keys stay for the next up; --clean deletes them with the data.
    expect((await cli('cluster', 'down')).code).toBe(ExitCode.Ok);
    expect(existsSync(join(dir, 'keys', 'members', 'n1.key'))).toBe(true);
    expect((await cli('cluster', 'down', '--clean')).code).toBe(ExitCode.Ok);
    expect(existsSync(join(dir, 'keys'))).toBe(false);
  }, 120_000);
});
