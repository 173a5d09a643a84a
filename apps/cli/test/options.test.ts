import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CLUSTER_FILE_VERSION,
  MemberState,
  readClusterFile,
  writeClusterFile,
} from '../src/cluster/ClusterFile.js';
import { target, timeoutMs } from '../src/commands/kv/target.js';
import { memberEndpoints } from '../src/commands/members.js';
import { ExitCode, runCli } from '../src/index.js';
import { adminEndpoints } from '../src/options/adminEndpoints.js';
import { formatDuration, parseDuration } from '../src/options/duration.js';
import { bind, parseEndpoints } from '../src/options/env.js';
import { cliName, shellQuote, targetFlags } from '../src/options/hint.js';
import { capture, freeBasePort, ProcessTracker, tempDir } from './helpers.js';

const ANY = { minMs: 0, maxMs: 3_600_000 };
const ms = (text: string): number | string => {
  const r = parseDuration(text, '--timeout', ANY);
  return r.ok ? r.ms : r.message;
};

describe('one duration syntax', () => {
  it('reads a number with a unit: ms, s, m, h', () => {
    expect(ms('500ms')).toBe(500);
    expect(ms('5s')).toBe(5000);
    expect(ms('1.5s')).toBe(1500);
    expect(ms('2m')).toBe(120_000);
    expect(ms('1h')).toBe(3_600_000);
  });

  it('adds up several parts, as Go and etcdctl spell them', () => {
    expect(ms('1m30s')).toBe(90_000);
    expect(ms('1s500ms')).toBe(1500);
  });

  it('reads a bare number as seconds, the unit every such option had before', () => {
    expect(ms('5')).toBe(5000);
    expect(ms('0.25')).toBe(250);
    expect(ms('0')).toBe(0);
  });

  it('refuses other spellings with one message naming the flag and the syntax', () => {
    for (const bad of ['', 's', '5 s', '5sec', '-1s', '1e3', '5S', 'ms', '1m30', '.5s']) {
      expect(ms(bad)).toMatch(/^--timeout must be a duration like 500ms, 5s or 2m/);
    }
  });

  it('refuses a duration outside the bounds, naming them', () => {
    const r = parseDuration('2h', '--catch-up', { minMs: 1, maxMs: 3_600_000 });
    expect(r).toEqual({ ok: false, message: "--catch-up must be from 1ms to 1h, got '2h'" });
    expect(parseDuration('0s', '--timeout', { minMs: 1, maxMs: 1000 }).ok).toBe(false);
  });

  it('formats durations the way they are typed', () => {
    expect([0, 1, 500, 1000, 1500, 90_000, 120_000, 3_600_000].map(formatDuration)).toEqual([
      '0s',
      '1ms',
      '500ms',
      '1s',
      '1.5s',
      '90s',
      '2m',
      '1h',
    ]);
  });

  it('is what cluster --timeout and members --timeout/--catch-up read, with one message', async () => {
    const cases: [string[], string][] = [
      [
        ['cluster', 'down', '--timeout', '5x', '--dir', '/nonexistent'],
        "keel cluster down: --timeout must be a duration like 500ms, 5s or 2m (a bare number is seconds), from 0s to 1h; got '5x'; run 'keel cluster --help'",
      ],
      [
        ['members', 'add', 'n4', '127.0.0.1:1', '--catch-up', '1 m'],
        "keel members add: --catch-up must be a duration like 500ms, 5s or 2m (a bare number is seconds), from 1ms to 24h; got '1 m'; run 'keel members --help'",
      ],
    ];
    for (const [argv, line] of cases) {
      const c = capture();
      expect(await runCli(argv, c.io)).toBe(ExitCode.Usage);
      expect(c.err).toEqual([line]);
    }
  });

  it('cluster up refuses a bad --timeout before it starts any member', async () => {
    const tmp = tempDir('up-timeout');
    const tracker = new ProcessTracker();
    try {
      const dir = join(tmp.path, 'c');
      const c = capture({}, tracker);
      const base = String(await freeBasePort(3, 21000, 31000));
      const argv = ['cluster', 'up', '--detach', '--timeout', '0ms', '--dir', dir, '--base-port', base];
      expect(await runCli(argv, c.io)).toBe(ExitCode.Usage);
      expect(c.err).toEqual([
        "keel cluster up: --timeout must be from 1ms to 1h, got '0ms'; run 'keel cluster --help'",
      ]);
      expect(readClusterFile(dir)).toBeNull();
    } finally {
      tracker.killAll();
      tmp.remove();
    }
  });

  it('is what kv --timeout reads', () => {
    expect(timeoutMs({})).toBe(5000);
    expect(timeoutMs({ timeout: '250ms' })).toBe(250);
    expect(timeoutMs({ timeout: '3' })).toBe(3000);
    expect(() => timeoutMs({ timeout: '0' })).toThrow(/--timeout must be from 1ms to 1h/);
  });
});

describe('options from the environment', () => {
  it('binds a flag before its variable, and ignores an empty variable', () => {
    const env = { KEEL_ENDPOINTS: 'a:1' };
    expect(bind('b:2', 'endpoints', env, 'KEEL_ENDPOINTS')).toEqual({
      value: 'b:2',
      source: '--endpoints',
      fromFlag: true,
    });
    expect(bind(undefined, 'endpoints', env, 'KEEL_ENDPOINTS')).toEqual({
      value: 'a:1',
      source: 'KEEL_ENDPOINTS',
      fromFlag: false,
    });
    expect(bind(undefined, 'endpoints', { KEEL_ENDPOINTS: ' ' }, 'KEEL_ENDPOINTS')).toBeUndefined();
  });

  it('parses endpoint lists and names the source of a bad one', () => {
    const bound = { value: '127.0.0.1:1, [::1]:2,127.0.0.1:1', source: 'KEEL_ENDPOINTS', fromFlag: false };
    expect(parseEndpoints(bound)).toEqual({ ok: true, endpoints: ['127.0.0.1:1', '[::1]:2'] });
    expect(parseEndpoints({ ...bound, value: 'localhost' })).toEqual({
      ok: false,
      message: "KEEL_ENDPOINTS wants host:port[,host:port...], got 'localhost'",
    });
    expect(parseEndpoints({ ...bound, value: 'h:70000' }).ok).toBe(false);
  });

  it('KV commands: --endpoints, then --dir, then KEEL_ENDPOINTS, then the cluster directory', () => {
    const tmp = tempDir('env');
    try {
      const env = {
        KEEL_ENDPOINTS: '127.0.0.1:9001,127.0.0.1:9002',
        KEEL_CLUSTER_DIR: join(tmp.path, 'none'),
      };
      const io = capture({ env, cwd: tmp.path }).io;
      expect(target({}, io).endpoints).toEqual(['127.0.0.1:9001', '127.0.0.1:9002']);
      expect(target({ endpoints: '127.0.0.1:7' }, io).endpoints).toEqual(['127.0.0.1:7']);
      // An explicit --dir beats the environment's endpoints: there is no cluster in it.
      expect(() => target({ dir: 'elsewhere' }, io)).toThrow(/no cluster running in .*elsewhere/);
      const noEnv = capture({ env: { KEEL_CLUSTER_DIR: join(tmp.path, 'none') }, cwd: tmp.path }).io;
      expect(() => target({}, noEnv)).toThrow(/no cluster running in .*none.*KEEL_ENDPOINTS/);
      expect(() => target({}, capture({ env: { KEEL_ENDPOINTS: 'x' } }).io)).toThrow(
        "KEEL_ENDPOINTS wants host:port[,host:port...], got 'x'",
      );
    } finally {
      tmp.remove();
    }
  });

  it('admin commands: --admin-endpoints, the deprecated --endpoint with one warning, the cluster file', () => {
    const tmp = tempDir('admin');
    try {
      const dir = join(tmp.path, 'c');
      mkdirSync(dir);
      writeClusterFile({
        version: CLUSTER_FILE_VERSION,
        dir,
        host: '127.0.0.1',
        basePort: 7100,
        createdAt: new Date(0).toISOString(),
        launcherPid: null,
        members: [
          {
            id: 'n1',
            pid: null,
            pidStartTime: null,
            state: MemberState.Running,
            ports: { peer: 7101, client: 7201, http: 7301 },
            dataDir: join(dir, 'n1'),
            logFile: join(dir, 'n1', 'member.log'),
            command: ['node', 'member.js'],
            startedAt: null,
          },
        ],
      });
      const c = capture({ env: { KEEL_ADMIN_ENDPOINTS: '127.0.0.1:8301' }, cwd: tmp.path });
      expect(adminEndpoints({}, c.io)).toEqual({ ok: true, endpoints: ['127.0.0.1:8301'] });
      expect(adminEndpoints({ dir }, c.io)).toEqual({ ok: true, endpoints: ['127.0.0.1:7301'] });
      expect(adminEndpoints({ 'admin-endpoints': '127.0.0.1:1' }, c.io)).toEqual({
        ok: true,
        endpoints: ['127.0.0.1:1'],
      });
      expect(c.err).toEqual([]);
      expect(adminEndpoints({ endpoint: '127.0.0.1:2' }, c.io)).toEqual({
        ok: true,
        endpoints: ['127.0.0.1:2'],
      });
      expect(c.err).toEqual([
        'keel: --endpoint is deprecated; use --admin-endpoints (or KEEL_ADMIN_ENDPOINTS)',
      ]);
      // The shim for commands that still take one --endpoint: same sources, no warning.
      expect(memberEndpoints(dir, undefined)).toEqual(['127.0.0.1:7301']);
      expect(memberEndpoints(join(tmp.path, 'x'), '127.0.0.1:5')).toEqual(['127.0.0.1:5']);
      expect(() => memberEndpoints(join(tmp.path, 'x'), 'x')).toThrow('--endpoint wants host:port');
      const none = adminEndpoints({}, capture({ env: { KEEL_CLUSTER_DIR: join(tmp.path, 'x') } }).io);
      expect(none.ok === false && none.exitCode).toBe(ExitCode.NoCluster);
    } finally {
      tmp.remove();
    }
  });
});

describe('hints', () => {
  it("say 'pnpm keel' only when run through the checkout's scripts", () => {
    expect(cliName({})).toBe('keel');
    expect(cliName({ npm_lifecycle_event: 'keel' })).toBe('pnpm keel');
    expect(cliName({ npm_lifecycle_event: 'test' })).toBe('keel');
  });

  it('reproduce the flags that chose the cluster, quoted for the shell', () => {
    expect(targetFlags({ dir: 'my dir', json: true, endpoints: 'a:1,b:2' })).toBe(
      " --dir 'my dir' --endpoints a:1,b:2",
    );
    expect(targetFlags({})).toBe('');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});
