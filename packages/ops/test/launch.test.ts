import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addressList,
  killAllStarted,
  launchMember,
  memberCommand,
  processAlive,
  startMemberProcess,
  stopPids,
  waitFor,
  waitGone,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-ops-test-'));
afterAll(() => {
  killAllStarted();
  rmSync(dir, { recursive: true, force: true });
});

// A stand-in member: prints a line, then lives until signalled (bounded: it exits after 60 s).
const LIVE = ['-e', "console.log('up ' + process.argv[1]); setTimeout(() => {}, 60000)", 'n1'];

describe('memberCommand', () => {
  it('puts the program at argv[1] and the common flags after it', () => {
    const peers = addressList(['n1', 'n2'], (_id, i) => `127.0.0.1:${7101 + i}`);
    expect(peers).toBe('n1=127.0.0.1:7101,n2=127.0.0.1:7102');
    expect(
      memberCommand({
        program: '/x/main.js',
        nodeBinary: 'node',
        id: 'n1',
        peers,
        clients: 'n1=127.0.0.1:7201',
        http: '127.0.0.1:7301',
        dataDir: '/d/n1',
        extraArgs: ['--tick', '5'],
      }),
    ).toEqual([
      'node',
      '/x/main.js',
      '--id',
      'n1',
      '--peers',
      peers,
      '--clients',
      'n1=127.0.0.1:7201',
      '--http',
      '127.0.0.1:7301',
      '--data-dir',
      '/d/n1',
      '--log-format',
      'json',
      '--tick',
      '5',
    ]);
  });
});

describe('launchMember', () => {
  it('starts a process with its output in a log file, and stops it by PID', async () => {
    const logFile = join(dir, 'n1.log');
    const p = launchMember({
      id: 'n1',
      command: [process.execPath, ...LIVE],
      cwd: join(dir, 'n1'),
      output: { logFile, banner: '--- starting n1' },
    });
    await p.spawned;
    await waitFor(
      'the first line',
      () => (readFileSync(logFile, 'utf8').includes('up n1') ? true : undefined),
      10_000,
    );
    expect(readFileSync(logFile, 'utf8').startsWith('--- starting n1\n')).toBe(true);
    expect(processAlive(p.pid)).toBe(true);
    expect(await stopPids([p.pid], 5000)).toEqual([]);
    expect((await p.exited).signal).toBe('SIGTERM');
  });

  it('killAllStarted kills what is still registered, and only that', async () => {
    const p = launchMember({ id: 'n2', command: [process.execPath, ...LIVE], output: 'ignore' });
    const untracked = launchMember({
      id: 'n3',
      command: [process.execPath, ...LIVE],
      output: 'ignore',
      track: false,
    });
    expect(killAllStarted()).toContain(p.pid);
    expect(await waitGone(p.pid, 10_000)).toBe(true);
    expect(processAlive(untracked.pid)).toBe(true);
    untracked.child.kill('SIGKILL');
    expect(await waitGone(untracked.pid, 10_000)).toBe(true);
  });

  it('startMemberProcess rejects with the reason when the binary does not exist', async () => {
    await expect(
      startMemberProcess({ id: 'n4', command: [join(dir, 'no-such-binary')], output: 'ignore' }),
    ).rejects.toThrow(/^could not start member n4: spawn .*ENOENT/);
  });
});
