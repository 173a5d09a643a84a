import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readProcStat } from '@keel/ops';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readClusterFile } from '../src/cluster/ClusterFile.js';
import { ExitCode, runCli } from '../src/index.js';
import { CLI_MAIN, capture, FAKE_MEMBER, freeBasePort, ProcessTracker, tempDir, until } from './helpers.js';

// Real OS processes: the CLI starts fake members (test/fixtures/fake-member.mjs), which bind the
// same ports and serve the same /status as `keel node`. Every PID started here is killed after
// each test, passed or failed.
const tracker = new ProcessTracker();
const tmp = tempDir('fake');
let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) tracker.trackClusterDir(d);
  dirs = [];
  tracker.killAll();
});
afterAll(() => tmp.remove());

function clusterDir(name: string): string {
  const d = join(tmp.path, name);
  dirs.push(d);
  return d;
}

async function cli(argv: string[], env: Record<string, string> = {}) {
  const c = capture(
    { env: { ...process.env, KEEL_MEMBER_PROGRAM: FAKE_MEMBER, KEEL_FAKE_LIFETIME_MS: '60000', ...env } },
    tracker,
  );
  const code = await runCli(argv, c.io);
  return { code, out: c.out, err: c.err, text: c.text() };
}

interface StatusJson {
  leader: string | null;
  term: number | null;
  members: { id: string; pid: number | null; state: string; role: string | null; leader: string | null }[];
}

async function status(dir: string): Promise<{ code: number; json: StatusJson | null }> {
  const r = await cli(['cluster', 'status', '--json', '--dir', dir]);
  return {
    code: r.code,
    json: r.code === ExitCode.NoCluster ? null : (JSON.parse(r.out.join('\n')) as StatusJson),
  };
}

const alive = (pid: number | null): boolean =>
  pid !== null && readProcStat(pid) !== null && readProcStat(pid)?.state !== 'Z';

describe('keel cluster with real processes (fake members)', () => {
  it('up --detach, status, kill, restart, pause, resume, down', async () => {
    const dir = clusterDir('life');
    const base = await freeBasePort(3, 21000, 31000);
    const upr = await cli(['cluster', 'up', '--detach', '--dir', dir, '--base-port', String(base)]);
    expect(upr.err).toEqual([]);
    expect(upr.code).toBe(ExitCode.Ok);
    expect(upr.out[0]).toMatch(
      new RegExp(`^cluster of 3 running in ${dir}; leader n\\d elected in term \\d+ after`),
    );

    const file = readClusterFile(dir);
    expect(file?.members.map((m) => [m.id, m.state, m.ports.peer])).toEqual([
      ['n1', 'running', base + 1],
      ['n2', 'running', base + 2],
      ['n3', 'running', base + 3],
    ]);
    expect(file?.launcherPid).toBeNull();
    for (const m of file?.members ?? []) expect(alive(m.pid)).toBe(true);

    const s1 = await status(dir);
    expect(s1.code).toBe(ExitCode.Ok);
    expect(s1.json?.leader).toMatch(/^n[123]$/);
    expect(s1.json?.members.map((m) => m.state)).toEqual(['running', 'running', 'running']);

    // Starting again in the same directory is refused while it runs.
    const again = await cli(['cluster', 'up', '--detach', '--dir', dir, '--base-port', String(base)]);
    expect(again.code).toBe(ExitCode.Failure);
    expect(again.err[0]).toContain(`a cluster is already running in ${dir}`);

    const n1pid = file?.members[0]?.pid ?? null;
    const k = await cli(['cluster', 'kill', 'n1', '--dir', dir]);
    expect(k.code).toBe(ExitCode.Ok);
    expect(k.out).toEqual([
      `n1 (pid ${n1pid}) killed with SIGKILL; start it again with 'keel cluster restart n1 --dir ${dir}'`,
    ]);
    await until('n1 to die', 5000, () => (alive(n1pid) ? undefined : true));
    const s2 = await until('another member to lead', 20_000, async () => {
      const s = await status(dir);
      return s.json?.leader != null && s.json.leader !== 'n1' ? s : undefined;
    });
    expect(s2.json?.members[0]).toMatchObject({ id: 'n1', pid: null, state: 'stopped', role: null });

    const killAgain = await cli(['cluster', 'kill', 'n1', '--dir', dir]);
    expect(killAgain.code).toBe(ExitCode.Failure);
    expect(killAgain.err).toEqual([
      `keel cluster kill: member n1 is not running (stopped); start it with 'keel cluster restart n1 --dir ${dir}'`,
    ]);

    const r = await cli(['cluster', 'restart', 'n1', '--dir', dir, '--json']);
    expect(r.code).toBe(ExitCode.Ok);
    const restarted = JSON.parse(r.out.join('\n')) as { pid: number; state: string };
    expect(restarted.state).toBe('running');
    expect(restarted.pid).not.toBe(n1pid);
    expect(alive(restarted.pid)).toBe(true);
    await until('n1 to answer again', 10_000, async () => {
      const s = await status(dir);
      return s.json?.members[0]?.state === 'running' ? true : undefined;
    });

    expect((await cli(['cluster', 'pause', 'n3', '--dir', dir])).code).toBe(ExitCode.Ok);
    const n3pid = readClusterFile(dir)?.members[2]?.pid as number;
    await until('n3 to be stopped by SIGSTOP', 5000, () =>
      readProcStat(n3pid)?.state === 'T' ? true : undefined,
    );
    expect((await status(dir)).json?.members[2]?.state).toBe('paused');
    expect((await cli(['cluster', 'pause', 'n3', '--dir', dir])).code).toBe(ExitCode.Failure);
    expect((await cli(['cluster', 'resume', 'n3', '--dir', dir])).code).toBe(ExitCode.Ok);
    await until('n3 to run again', 5000, () => (readProcStat(n3pid)?.state !== 'T' ? true : undefined));

    const logs = await cli(['cluster', 'logs', 'n2', '--dir', dir, '-n', '2']);
    expect(logs.code).toBe(ExitCode.Ok);
    expect(logs.out).toHaveLength(2);

    const pids = (readClusterFile(dir)?.members ?? []).map((m) => m.pid);
    // Pausing n3 may have cost the cluster its leader for a while: let it elect one, so that `down`
    // normally has a leader to keep for last.
    await until('a leader before down', 30_000, async () =>
      (await status(dir)).json?.leader ? true : undefined,
    );
    const d = await cli(['cluster', 'down', '--json', '--dir', dir]);
    expect(d.code).toBe(ExitCode.Ok);
    // Followers first, the leader last: `down` reports whom it treated as leader when it chose the
    // order (leadership may move at any time, so no earlier status can tell).
    const downJson = JSON.parse(d.out.join('\n')) as {
      leader: string | null;
      stopped: { id: string; outcome: string }[];
    };
    expect(downJson.stopped.map((x) => x.id).sort()).toEqual(['n1', 'n2', 'n3']);
    // Leadership can still move between that wait and down's own sample, leaving none to report
    // (then no order is owed); whenever down knew a leader, it stopped it last.
    if (downJson.leader !== null) expect(downJson.stopped.at(-1)?.id).toBe(downJson.leader);
    for (const x of downJson.stopped) expect(x.outcome).not.toBe('stuck');
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(readClusterFile(dir)?.members.map((m) => m.state)).toEqual(['stopped', 'stopped', 'stopped']);
    expect((await status(dir)).code).toBe(ExitCode.NoCluster);
    expect((await cli(['cluster', 'down', '--dir', dir])).code).toBe(ExitCode.NoCluster);

    // The stopped cluster starts again with its recorded size and ports, then goes away for good.
    expect((await cli(['cluster', 'up', '--detach', '--dir', dir])).code).toBe(ExitCode.Ok);
    expect(readClusterFile(dir)?.basePort).toBe(base);
    const sized = await cli(['cluster', 'up', '--detach', '-n', '5', '--dir', dir]);
    expect(sized.code).toBe(ExitCode.Failure);
    const clean = await cli(['cluster', 'down', '--clean', '--dir', dir]);
    expect(clean.code).toBe(ExitCode.Ok);
    expect(existsSync(join(dir, 'cluster.json'))).toBe(false);
    expect(existsSync(join(dir, 'n1'))).toBe(false);
  });

  it('refuses to start on ports that are in use', async () => {
    const dir = clusterDir('busy');
    const base = await freeBasePort(3, 21000, 31000);
    const first = await cli([
      'cluster',
      'up',
      '--detach',
      '-n',
      '1',
      '--dir',
      clusterDir('holder'),
      '--base-port',
      String(base),
    ]);
    expect(first.code).toBe(ExitCode.Ok);
    const r = await cli(['cluster', 'up', '--detach', '--dir', dir, '--base-port', String(base)]);
    expect(r.code).toBe(ExitCode.Failure);
    expect(r.err).toEqual([
      `keel cluster up: ports ${base + 1}, ${base + 101}, ${base + 201} already in use on 127.0.0.1; stop what holds them or choose other ports with --base-port <p>`,
    ]);
    expect(readClusterFile(dir)).toBeNull();
  });

  it('escalates to SIGKILL when a member ignores SIGTERM', async () => {
    const dir = clusterDir('stubborn');
    const base = await freeBasePort(1, 21000, 31000);
    const up = await cli(
      ['cluster', 'up', '--detach', '-n', '1', '--dir', dir, '--base-port', String(base)],
      {
        KEEL_FAKE_IGNORE_TERM: '1',
      },
    );
    expect(up.code).toBe(ExitCode.Ok);
    const pid = readClusterFile(dir)?.members[0]?.pid ?? null;
    const d = await cli(['cluster', 'down', '--timeout', '1', '--dir', dir]);
    expect(d.code).toBe(ExitCode.Ok);
    expect(d.out[0]).toMatch(
      new RegExp(`^n1 \\(pid ${pid}\\) did not stop on SIGTERM; killed with SIGKILL after \\d+ ms$`),
    );
    expect(alive(pid)).toBe(false);
  });

  it('a member that cannot start shows as down; the majority still elects a leader', async () => {
    const dir = clusterDir('broken');
    const base = await freeBasePort(3, 21000, 31000);
    const r = await cli(['cluster', 'up', '--detach', '--dir', dir, '--base-port', String(base)], {
      KEEL_FAKE_FAIL: 'n2',
    });
    expect(r.code).toBe(ExitCode.Ok);
    const s = await until('n2 to show as down', 5000, async () => {
      const st = await status(dir);
      return st.json?.members[1]?.state === 'down' ? st : undefined;
    });
    expect(s.code).toBe(ExitCode.Ok);
    expect(s.json?.members.map((m) => m.state)).toEqual(['running', 'down', 'running']);
    const d = await cli(['cluster', 'down', '--dir', dir]);
    expect(d.out).toContain('n2 was not running');
  });

  it('up --detach fails fast, shows the logs and stops the cluster when every member exits', async () => {
    const dir = clusterDir('allfail');
    const base = await freeBasePort(1, 21000, 31000);
    const r = await cli(['cluster', 'up', '--detach', '-n', '1', '--dir', dir, '--base-port', String(base)], {
      KEEL_FAKE_FAIL: 'n1',
    });
    expect(r.code).toBe(ExitCode.Failure);
    // Fast: it gave up because every member exited, not after the 15 s wait for a leader (the
    // reason says which; a clock would only measure how busy the machine is).
    expect(r.err[0]).toBe(
      'keel cluster up: every member exited; stopping the cluster. Last lines of the member logs:',
    );
    expect(r.err).toContain(`--- n1 (exited with code 2): ${join(dir, 'n1', 'member.log')}`);
    expect(r.err).toContain('  keel node: fake failure of n1 for a test');
    expect(readClusterFile(dir)?.members[0]?.state).toBe('stopped');
  });

  it('foreground up prints a line per change and stops the cluster when told to stop', async () => {
    const dir = clusterDir('fg');
    const base = await freeBasePort(3, 21000, 31000);
    const stop = new AbortController();
    const c = capture({ stop: stop.signal }, tracker);
    const running = runCli(['cluster', 'up', '--dir', dir, '--base-port', String(base)], c.io);
    await until('a leader line', 30_000, () =>
      c.out.some((l) => /n\d running pid \d+: leader/.test(l)) ? true : undefined,
    );
    expect(c.out[0]).toMatch(/^started 3 members in /);
    expect(c.out[1]).toBe(`keel cluster in ${dir}`);
    expect(readClusterFile(dir)?.launcherPid).toBe(process.pid);
    const pids = (readClusterFile(dir)?.members ?? []).map((m) => m.pid);
    stop.abort();
    expect(await running).toBe(ExitCode.Ok);
    expect(c.out).toContain('stopping the cluster');
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(readClusterFile(dir)?.launcherPid).toBeNull();
  });

  it('the keel process stops its cluster on SIGINT, as Ctrl-C does', async () => {
    const dir = clusterDir('sigint');
    const base = await freeBasePort(3, 21000, 31000);
    const child = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        CLI_MAIN,
        'cluster',
        'up',
        '--dir',
        dir,
        '--base-port',
        String(base),
      ],
      {
        env: { ...process.env, KEEL_MEMBER_PROGRAM: FAKE_MEMBER, KEEL_FAKE_LIFETIME_MS: '60000' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    if (child.pid !== undefined) tracker.track(child.pid, CLI_MAIN);
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await until('a leader line', 45_000, () => (/n\d running pid \d+: leader/.test(out) ? true : undefined));
    const pids = (readClusterFile(dir)?.members ?? []).map((m) => m.pid);
    for (const pid of pids) if (pid !== null) tracker.track(pid, FAKE_MEMBER);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('stopping the cluster');
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('logs -f follows a member log until stopped', async () => {
    const dir = clusterDir('follow');
    const base = await freeBasePort(1, 21000, 31000);
    expect(
      (await cli(['cluster', 'up', '--detach', '-n', '1', '--dir', dir, '--base-port', String(base)])).code,
    ).toBe(ExitCode.Ok);
    const stop = new AbortController();
    const c = capture({ stop: stop.signal });
    const following = runCli(['cluster', 'logs', 'n1', '-f', '--dir', dir], c.io);
    await until('the start line', 5000, () =>
      c.out.some((l) => l.includes('"msg":"started"')) ? true : undefined,
    );
    expect((await cli(['cluster', 'kill', 'n1', '--dir', dir])).text).toMatch(/killed with SIGKILL/);
    expect((await cli(['cluster', 'restart', 'n1', '--dir', dir])).text).toMatch(/started again/);
    await until('the restart line', 5000, () =>
      c.out.filter((l) => l.startsWith('--- keel cluster: starting n1')).length >= 2 ? true : undefined,
    );
    stop.abort();
    expect(await following).toBe(ExitCode.Ok);
  });
});
