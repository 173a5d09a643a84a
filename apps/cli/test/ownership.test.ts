import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readProcStat } from '@keel/ops';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type MemberRecord, writeClusterFile } from '../src/cluster/ClusterFile.js';
import { planCluster, startMember } from '../src/cluster/launcher.js';
import { checkOwnership } from '../src/cluster/ownership.js';
import { ExitCode, runCli } from '../src/index.js';
import { capture, FAKE_MEMBER, freeBasePort, ProcessTracker, tempDir, until } from './helpers.js';

const tmp = tempDir('own');
const tracker = new ProcessTracker();
afterEach(() => tracker.killAll());
afterAll(() => tmp.remove());

function member(dir: string, patch: Partial<MemberRecord> = {}): MemberRecord {
  const file = planCluster({
    dir,
    host: '127.0.0.1',
    basePort: 7100,
    size: 1,
    program: FAKE_MEMBER,
    nodeBinary: process.execPath,
  });
  return { ...(file.members[0] as MemberRecord), ...patch };
}

/** A /proc look-alike for one PID, so every branch runs without depending on the machine. */
function fakeProc(pid: number, state: string, startTime: number, argv: readonly string[]): string {
  const root = join(tmp.path, `proc-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(root, String(pid)), { recursive: true });
  const rest = Array.from({ length: 50 }, (_v, i) => (i === 0 ? state : i === 19 ? String(startTime) : '0'));
  writeFileSync(join(root, String(pid), 'stat'), `${pid} (node (keel)) ${rest.join(' ')}\n`);
  writeFileSync(join(root, String(pid), 'cmdline'), `${argv.join('\0')}\0`);
  return root;
}

function spawnStranger(): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  if (child.pid !== undefined) tracker.track(child.pid, 'setInterval');
  return child;
}

describe('PID ownership', () => {
  const pid = process.pid; // alive for sure; the fake /proc decides what it "is"
  const dir = join(tmp.path, 'c');

  it('reads state and start time from /proc/<pid>/stat even with spaces and parens in the name', () => {
    const m = member(dir);
    const root = fakeProc(pid, 'S', 987654, m.command);
    expect(readProcStat(pid, root)).toMatchObject({ state: 'S', startTime: 987654 });
  });

  it('is ours when the start time and the command line match the record', () => {
    const m = member(dir, { pid, pidStartTime: 555 });
    expect(checkOwnership(m, { procRoot: fakeProc(pid, 'S', 555, m.command) })).toEqual({ kind: 'ours' });
  });

  it('is still ours while it exits: an empty command line with the recorded start time', () => {
    const m = member(dir, { pid, pidStartTime: 556 });
    expect(checkOwnership(m, { procRoot: fakeProc(pid, 'R', 556, []) })).toEqual({ kind: 'ours' });
    const unverified = member(dir, { pid, pidStartTime: null });
    expect(checkOwnership(unverified, { procRoot: fakeProc(pid, 'R', 556, []) }).kind).toBe('stranger');
  });

  it('is a stranger when the PID was reused by a process started later', () => {
    const m = member(dir, { pid, pidStartTime: 555 });
    const own = checkOwnership(m, { procRoot: fakeProc(pid, 'S', 777, m.command) });
    expect(own).toEqual({ kind: 'stranger', reason: `PID ${pid} was reused by a process started later` });
  });

  it('is a stranger when the command line is another program or another member', () => {
    const m = member(dir, { pid, pidStartTime: null });
    expect(checkOwnership(m, { procRoot: fakeProc(pid, 'S', 1, ['/usr/bin/vim', 'notes.txt']) }).kind).toBe(
      'stranger',
    );
    const otherMember = m.command.map((a) => (a === 'n1' ? 'n2' : a));
    expect(checkOwnership(m, { procRoot: fakeProc(pid, 'S', 1, otherMember) }).kind).toBe('stranger');
    const otherDir = m.command.map((a) => (a === m.dataDir ? '/elsewhere/n1' : a));
    expect(checkOwnership(m, { procRoot: fakeProc(pid, 'S', 1, otherDir) }).kind).toBe('stranger');
  });

  it('is gone for a zombie, a missing PID, or no PID at all', () => {
    const m = member(dir, { pid, pidStartTime: 1 });
    expect(checkOwnership(m, { procRoot: fakeProc(pid, 'Z', 1, m.command) })).toEqual({ kind: 'gone' });
    expect(checkOwnership(member(dir, { pid: null }))).toEqual({ kind: 'gone' });
    expect(checkOwnership(member(dir, { pid: 2 ** 22 + 12345 }))).toEqual({ kind: 'gone' });
  });

  it('falls back to ps where there is no /proc', () => {
    const m = member(dir, { pid, pidStartTime: null });
    const probe = (args: string) => ({ procRoot: join(tmp.path, 'no-proc'), psArgs: () => args });
    expect(checkOwnership(m, probe(m.command.join(' '))).kind).toBe('ours');
    expect(checkOwnership(m, probe('/usr/bin/vim notes.txt')).kind).toBe('stranger');
  });

  it('knows a real member process it started, and a real unrelated process', async () => {
    const base = await freeBasePort(1, 19000, 20000);
    const plan = planCluster({
      dir: join(tmp.path, 'real'),
      host: '127.0.0.1',
      basePort: base,
      size: 1,
      program: FAKE_MEMBER,
      nodeBinary: process.execPath,
    });
    const rec = await startMember(plan.members[0] as MemberRecord, {
      env: { ...process.env, KEEL_FAKE_LIFETIME_MS: '30000' },
      onSpawn: (p) => tracker.track(p, FAKE_MEMBER),
    });
    expect(rec.pidStartTime).toEqual(expect.any(Number));
    expect(checkOwnership(rec)).toEqual({ kind: 'ours' });
    expect(checkOwnership({ ...rec, pidStartTime: (rec.pidStartTime ?? 0) + 1 }).kind).toBe('stranger');

    const stranger = spawnStranger();
    await until('the stranger to run', 5000, () =>
      stranger.pid !== undefined && readProcStat(stranger.pid) ? true : undefined,
    );
    expect(checkOwnership({ ...rec, pid: stranger.pid ?? null, pidStartTime: null }).kind).toBe('stranger');
  });

  it('never signals a stranger that holds a recorded PID', async () => {
    const stranger = spawnStranger();
    const spid = stranger.pid as number;
    await until('the stranger to run', 5000, () => (readProcStat(spid) ? true : undefined));
    const cdir = join(tmp.path, 'reused');
    const file = planCluster({
      dir: cdir,
      host: '127.0.0.1',
      basePort: 7100,
      size: 1,
      program: FAKE_MEMBER,
      nodeBinary: process.execPath,
    });
    writeClusterFile({
      ...file,
      members: [{ ...(file.members[0] as MemberRecord), pid: spid, pidStartTime: null, state: 'running' }],
    });
    for (const argv of [['kill', 'n1'], ['pause', 'n1'], ['down']]) {
      const c = capture();
      const code = await runCli(['cluster', ...argv, '--dir', cdir], c.io);
      expect(code).not.toBe(ExitCode.Ok);
    }
    const c = capture();
    expect(await runCli(['cluster', 'kill', 'n1', '--dir', cdir], c.io)).toBe(ExitCode.NoCluster);
    expect(readProcStat(spid)?.state).not.toBe('T');
    expect(() => process.kill(spid, 0)).not.toThrow();
  });
});
