import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Message, MessageType, PeerEvent } from '@keel/core';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerTransport } from '../src/index.js';
import { Recorder, waitFor } from './helpers.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

interface Child {
  readonly proc: ChildProcess;
  readonly endpoint: string;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
}

/** Runs test/fixtures/member.ts in its own process and waits for its `ready` line. */
async function spawnMember(id: string, bind: string, peers: Record<string, string>): Promise<Child> {
  const proc = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'test/fixtures/member.ts', id, bind, JSON.stringify(peers)],
    { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  children.push(proc);
  await waitFor(() => /ready (\S+)/.test(out) || proc.exitCode !== null, `member ${id} to start`, 20_000);
  const match = /ready (\S+)/.exec(out);
  if (match === null) throw new Error(`member ${id} failed to start:\n${out}`);
  return { proc, endpoint: match[1]!, output: () => out, exited };
}

const children: ChildProcess[] = [];
let local: PeerTransport | null = null;
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await local?.close();
  local = null;
});

const hb = (term: number): Message => ({
  type: MessageType.Heartbeat,
  from: 'a',
  to: 'b',
  term,
  commit: 0,
  context: term,
});

describe('members in separate processes', () => {
  it('reports a killed member disconnected promptly, and reconnects when it restarts', async () => {
    const recorder = new Recorder();
    local = new PeerTransport({
      id: 'a',
      bind: 'tcp://127.0.0.1:0',
      reconnectIntervalMs: 20,
      reconnectMaxIntervalMs: 100,
    });
    const aEndpoint = await local.listen();
    const b = await spawnMember('b', 'tcp://127.0.0.1:0', { a: aEndpoint });
    local.addPeer('b', b.endpoint);
    await local.start(recorder);
    await waitFor(() => recorder.last('b') === PeerEvent.Connected, 'b connected');
    local.send([hb(1)]);
    await waitFor(() => recorder.messages.some((m) => m.type === 'heartbeatResp' && m.context === 1), 'echo');

    b.proc.kill('SIGKILL');
    const killedAt = performance.now();
    await waitFor(() => recorder.last('b') === PeerEvent.Disconnected, 'b disconnected', 5000);
    expect(performance.now() - killedAt).toBeLessThan(2000);

    const b2 = await spawnMember('b', b.endpoint, { a: aEndpoint });
    expect(b2.endpoint).toBe(b.endpoint);
    await waitFor(() => recorder.last('b') === PeerEvent.Connected, 'b reconnected');
    local.send([hb(2)]);
    await waitFor(
      () => recorder.messages.some((m) => m.type === 'heartbeatResp' && m.context === 2),
      'echo after restart',
    );
  }, 180_000);

  it('a member that closes its transport exits on its own: no socket, timer or handle left', async () => {
    const b = await spawnMember('b', 'tcp://127.0.0.1:0', { a: 'tcp://127.0.0.1:1' });
    b.proc.kill('SIGTERM');
    const result = await Promise.race([
      b.exited,
      // Far above the usual few hundred ms, so only a real hang (not a busy machine) reads as one.
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 30_000).unref()),
    ]);
    expect(result).toEqual({ code: 0, signal: null });
    expect(b.output()).toContain('closed');
  }, 180_000);

  it('reports a frozen member (SIGSTOP: its TCP connection stays open) disconnected through ZMTP heartbeats, and connected again after SIGCONT', async () => {
    const recorder = new Recorder();
    local = new PeerTransport({
      id: 'a',
      bind: 'tcp://127.0.0.1:0',
      reconnectIntervalMs: 20,
      reconnectMaxIntervalMs: 100,
      heartbeatIntervalMs: 25,
      heartbeatTimeoutMs: 150,
    });
    const aEndpoint = await local.listen();
    const b = await spawnMember('b', 'tcp://127.0.0.1:0', { a: aEndpoint });
    local.addPeer('b', b.endpoint);
    await local.start(recorder);
    await waitFor(() => recorder.last('b') === PeerEvent.Connected, 'b connected');

    b.proc.kill('SIGSTOP');
    // Nothing closes the connection: only the missing heartbeat answers reveal the hang.
    await waitFor(
      () => recorder.last('b') === PeerEvent.Disconnected,
      'frozen b reported disconnected',
      10_000,
    );
    b.proc.kill('SIGCONT');
    await waitFor(() => recorder.last('b') === PeerEvent.Connected, 'b connected after SIGCONT', 10_000);
    local.send([hb(3)]);
    await waitFor(
      () => recorder.messages.some((m) => m.type === 'heartbeatResp' && m.context === 3),
      'echo after resume',
    );
  }, 180_000);
});
