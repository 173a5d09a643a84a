/**
 * `keel dashboard --dir` and the CLI's adapters of the dashboard's ports (cluster file as the
 * source, the cluster commands as the actions), against fake members (real processes, fake Raft).
 */
import { join } from 'node:path';
import type { Snapshot } from '@keel/dashboard';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readClusterFile } from '../src/cluster/ClusterFile.js';
import { cliActions } from '../src/dashboard/actions.js';
import { clusterSource } from '../src/dashboard/source.js';
import { ExitCode, runCli } from '../src/index.js';
import { capture, freeBasePort, ProcessTracker, tempDir, until } from './helpers.js';

const tracker = new ProcessTracker();
const tmp = tempDir('dashboard-fake');
let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) tracker.trackClusterDir(d);
  dirs = [];
  tracker.killAll();
});
afterAll(() => tmp.remove());

async function upDetached(name: string): Promise<string> {
  const dir = join(tmp.path, name);
  dirs.push(dir);
  const base = await freeBasePort(3, 21000, 31000);
  const c = capture({}, tracker);
  const code = await runCli(['cluster', 'up', '--detach', '--dir', dir, '--base-port', String(base)], c.io);
  expect(code, c.text()).toBe(ExitCode.Ok);
  return dir;
}

describe('keel dashboard', () => {
  it('attaches to a running cluster, serves its snapshot, and stops on the stop signal', async () => {
    const dir = await upDetached('attach');
    const stop = new AbortController();
    const c = capture({ stop: stop.signal }, tracker);
    const run = runCli(['dashboard', '--dir', dir], c.io);
    const url = await until('the printed URL', 20_000, () =>
      c.out.map((l) => /: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(l)?.[1]).find((u) => u !== undefined),
    );
    const snap = await until('a snapshot naming a leader', 20_000, async () => {
      const res = await fetch(new URL('/api/snapshot', url));
      if (res.status !== 200) return undefined;
      const s = (await res.json()) as Snapshot;
      return s.leader !== null ? s : undefined;
    });
    expect(snap.members.map((m) => m.id)).toEqual(['n1', 'n2', 'n3']);
    expect(snap.actions).toContain('kill');
    stop.abort();
    expect(await run).toBe(ExitCode.Ok);
    await expect(fetch(url)).rejects.toThrow();
  });

  it('refuses a directory without a cluster and a bad port', async () => {
    const none = capture({}, tracker);
    expect(await runCli(['dashboard', '--dir', join(tmp.path, 'nothing')], none.io)).toBe(ExitCode.NoCluster);
    const bad = capture({}, tracker);
    expect(await runCli(['dashboard', '--port', 'x'], bad.io)).toBe(ExitCode.Usage);
    expect(bad.err.join('\n')).toContain('--port must be an integer');
  });
});

describe('the dashboard adapters of apps/cli', () => {
  it('the actions are the cluster commands: pause and resume change the cluster file the source reads', async () => {
    const dir = await upDetached('actions');
    const c = capture({}, tracker);
    const actions = cliActions(dir, c.io);
    const source = clusterSource(dir);
    const paused = await actions.pause?.('n2');
    expect(paused?.ok, paused?.message).toBe(true);
    expect(paused?.message).toMatch(/^n2 \(pid \d+\) paused with SIGSTOP/);
    expect((await source.members()).find((m) => m.id === 'n2')?.state).toBe('paused');
    const again = await actions.pause?.('n2');
    expect(again).toEqual({ ok: false, message: expect.stringContaining('already paused') });
    expect((await actions.resume?.('n2'))?.ok).toBe(true);
    expect((await source.members()).find((m) => m.id === 'n2')?.state).toBe('running');
    const killed = await actions.kill?.('n3');
    expect(killed?.ok).toBe(true);
    expect(readClusterFile(dir)?.members.find((m) => m.id === 'n3')?.state).toBe('stopped');
    expect((await source.members()).find((m) => m.id === 'n3')?.state).toBe('stopped');
    const unknown = await actions.stop?.('n9');
    expect(unknown?.ok).toBe(false);
    expect(unknown?.message).toContain("no member 'n9'");
  });
});

describe('keel cluster up and its dashboard', () => {
  it('--no-dashboard serves none; a bad --dashboard-port is refused before any member starts', async () => {
    const bad = capture({}, tracker);
    const dir = join(tmp.path, 'flags');
    dirs.push(dir);
    expect(await runCli(['cluster', 'up', '--dir', dir, '--dashboard-port', '70000'], bad.io)).toBe(
      ExitCode.Usage,
    );
    expect(bad.err.join('\n')).toContain('--dashboard-port must be an integer from 0 to 65535');
    expect(readClusterFile(dir)).toBeNull();

    const base = await freeBasePort(3, 21000, 31000);
    const stop = new AbortController();
    const c = capture({ stop: stop.signal }, tracker);
    const run = runCli(['cluster', 'up', '--dir', dir, '--base-port', String(base), '--no-dashboard'], c.io);
    await until('the live view header', 20_000, () =>
      c.out.some((l) => l.startsWith('keel cluster in')) ? true : undefined,
    );
    expect(c.out.some((l) => l.startsWith('dashboard:'))).toBe(false);
    stop.abort();
    expect(await run).toBe(ExitCode.Ok);
  });
});
