import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllStarted, killPid, type LaunchedProcess, launchMember, waitFor } from '@keel/ops';
import { afterAll, describe, expect, it } from 'vitest';
import { NetnsNetwork, netnsUnavailable } from '../src/netns.js';
import { MEMBER_BUILT } from './helpers.js';

// docs/deploy.md, run: its `deploy:` blocks on three network namespaces (hosts with their own
// addresses; root only, skipped otherwise). Paths the page names on a host (/etc/keel,
// /var/lib/keel, /usr/bin/keel) are mapped into a temporary directory per host, and the page's
// addresses 10.0.0.1-3 to the namespaces'; nothing else of the commands is changed. Each member is
// started the way the page's systemd unit starts it: its EnvironmentFile, then its ExecStart.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'apps', 'cli', 'bin', 'keel.mjs');
const CLI_BUILT = existsSync(join(ROOT, 'apps', 'cli', 'dist', 'main.js'));
const work = mkdtempSync(join(tmpdir(), 'keel-deploy-doc-'));
let net: NetnsNetwork | null = null;

afterAll(async () => {
  killAllStarted();
  await net?.close();
  rmSync(work, { recursive: true, force: true });
});

/** The page's fenced blocks whose info string names `deploy:<name>`. */
function deployBlocks(markdown: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const m of markdown.matchAll(/^```\w+ deploy:([\w-]+)\n([\s\S]*?)^```$/gm)) blocks.set(m[1]!, m[2]!);
  return blocks;
}

function sh(
  script: string,
  opts: { cwd: string; netns?: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<{ code: number; out: string; err: string }> {
  // --norc: stdio over socketpairs makes bash believe sshd started it, and read bashrc.
  const bash = ['bash', '--norc', '--noprofile', '-euo', 'pipefail', '-c', script];
  const [cmd, ...args] = opts.netns === undefined ? bash : ['ip', 'netns', 'exec', opts.netns, ...bash];
  return new Promise((resolve) => {
    execFile(
      cmd!,
      args,
      { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 60_000 },
      (error, out, err) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, out, err });
      },
    );
  });
}

const why = netnsUnavailable() ?? (MEMBER_BUILT && CLI_BUILT ? null : 'apps/cli or apps/node is not built');
if (why !== null) console.log(`deploy doc test skipped: ${why}`);

describe.skipIf(why !== null)('docs/deploy.md on three hosts', () => {
  it('keys, environment files, the systemd unit, health checks and a client work; a dead leader is replaced', async () => {
    const blocks = deployBlocks(readFileSync(join(ROOT, 'docs', 'deploy.md'), 'utf8'));
    for (const name of ['keys', 'env', 'unit', 'health', 'client'])
      expect(blocks.has(name), `block deploy:${name}`).toBe(true);
    net = NetnsNetwork.create(3);
    const network = net;
    const ids = ['n1', 'n2', 'n3'];

    // `keel` on PATH, as `npm install -g` puts it (the installed package is tools/release's test).
    const bin = join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'keel'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(join(bin, 'keel'), 0o755);
    const env: NodeJS.ProcessEnv = {
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      HOME: work,
      KEEL_LOG_LEVEL: 'warn',
    };
    const host = (i: number) => join(work, `host${i + 1}`);
    const onHost = (text: string, i: number | null) => {
      let t = text;
      ids.forEach((_id, j) => {
        t = t.replaceAll(`10.0.0.${j + 1}`, network.address(j));
      });
      if (i !== null) {
        t = t
          .replaceAll('/etc/keel', join(host(i), 'etc', 'keel'))
          .replaceAll('/var/lib/keel', join(host(i), 'var', 'lib', 'keel'));
      }
      return t.replaceAll('/usr/bin/keel', join(bin, 'keel'));
    };

    // 3. Keys, made on the admin machine (here: the work dir), then copied to each host.
    const keys = await sh(blocks.get('keys')!, { cwd: work, env });
    expect(keys.err).toBe('');
    expect(keys.code).toBe(0);
    ids.forEach((id, i) => {
      const etc = join(host(i), 'etc', 'keel');
      mkdirSync(join(etc, 'keys', 'members'), { recursive: true });
      mkdirSync(join(etc, 'keys', 'clients'), { recursive: true });
      const members = join(work, 'keys', 'members');
      for (const f of readdirSync(members))
        if (f.endsWith('.pub') || f === `${id}.key`)
          copyFileSync(join(members, f), join(etc, 'keys', 'members', f));
      const clients = join(work, 'keys', 'clients');
      for (const f of readdirSync(clients))
        if (f.endsWith('.pub')) copyFileSync(join(clients, f), join(etc, 'keys', 'clients', f));
      copyFileSync(join(work, 'keys', 'admin.token'), join(etc, 'admin.token'));
      chmodSync(join(etc, 'admin.token'), 0o600);
      chmodSync(join(etc, 'keys', 'members', `${id}.key`), 0o600);
      // 4. The environment file: n1's, with KEEL_ID and the key file name changed on n2 and n3.
      const file = blocks.get('env')!.replace('KEEL_ID=n1', `KEEL_ID=${id}`).replace('/n1.key', `/${id}.key`);
      writeFileSync(join(etc, 'keel.env'), onHost(file, i));
    });

    // 5. The unit: what systemd does with EnvironmentFile= and ExecStart= (StateDirectory= makes the data dir).
    const unit = blocks.get('unit')!;
    const setting = (key: string) => new RegExp(`^${key}=(.+)$`, 'm').exec(unit)?.[1];
    const envFile = setting('EnvironmentFile');
    const execStart = setting('ExecStart');
    expect(envFile).toBeDefined();
    expect(execStart).toBeDefined();
    const members = new Map<string, LaunchedProcess>();
    ids.forEach((id, i) => {
      mkdirSync(join(host(i), 'var', 'lib', 'keel'), { recursive: true });
      const script = `set -a; . ${onHost(envFile!, i)}; set +a; exec ${onHost(execStart!, i)}`;
      members.set(
        id,
        launchMember({
          id,
          command: [...network.wrapper(i), 'sh', '-c', script],
          env,
          output: { logFile: join(host(i), 'member.log') },
        }),
      );
    });

    // The health block on a host answers once a leader is known; its /status names the leader.
    const leaderSeenFrom = async (i: number): Promise<string | undefined> => {
      const r = await sh(onHost(blocks.get('health')!, i), {
        cwd: host(i),
        netns: network.namespaces[i]!,
        env,
        timeoutMs: 10_000,
      });
      return r.code === 0 ? /"leader":\s*"(n\d)"/.exec(r.out)?.[1] : undefined;
    };
    const leader = await waitFor('a leader named by n1 health block', () => leaderSeenFrom(0), 30_000);

    // 6. The application host (this namespace, reaching the members over the bridge).
    const client = async () => sh(onHost(blocks.get('client')!, null), { cwd: work, env, timeoutMs: 60_000 });
    const first = await client();
    expect(first.err).toBe('');
    expect(first.out.trim().split('\n').at(-1)).toBe('on');

    // The leader's host stops; the same client commands keep working.
    killPid(members.get(leader)!.pid, 'SIGKILL');
    const after = await client();
    expect(after.err).toBe('');
    expect(after.out.trim().split('\n').at(-1)).toBe('on');
    const other = ids.findIndex((id) => id !== leader);
    const next = await waitFor(
      'a new leader',
      async () => {
        const l = await leaderSeenFrom(other);
        return l !== undefined && l !== leader ? l : undefined;
      },
      30_000,
    );
    expect(next).not.toBe(leader);
  }, 180_000);
});
