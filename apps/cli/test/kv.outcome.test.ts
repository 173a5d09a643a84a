import { decodeRequest, encodeResponse, type KvRequest } from '@keel/kv';
import { ClientServer } from '@keel/transport-zmq';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode, runCli } from '../src/index.js';
import { capture } from './helpers.js';

// What a one-shot write does when its answer is lost, against a stand-in member on 127.0.0.1 that
// answers every request `stopped` ("I may or may not have run it"), or never answers: put and del
// are retried (applying them twice leaves the same state), cas and incr are sent once and exit 5.
const servers: ClientServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function member(mode: 'stopped' | 'silent'): Promise<{ endpoint: string; received: KvRequest[] }> {
  const server = new ClientServer({ bind: 'tcp://127.0.0.1:0' });
  servers.push(server);
  const received: KvRequest[] = [];
  await server.start((req) => {
    received.push(decodeRequest(req.payload));
    if (mode === 'silent') return;
    req.reply(
      encodeResponse({ kind: 'error', code: 'stopped', message: 'stopping', leaderHint: null }).slice(),
    );
  });
  const bound = await server.listen();
  return { endpoint: bound.replace(/^tcp:\/\//, ''), received };
}

async function keel(endpoint: string, ...argv: string[]) {
  const c = capture();
  const code = await runCli([...argv, '--endpoints', endpoint, '--timeout', '1'], c.io);
  return { code, out: c.out, err: c.err };
}

const writes = (received: readonly KvRequest[]) => received.filter((r) => r.command.type !== 'get');

describe('keel writes whose answer is lost', () => {
  it('cas and incr are sent once and exit 5 (outcome unknown), naming it in one line', async () => {
    for (const mode of ['stopped', 'silent'] as const) {
      for (const argv of [
        ['cas', 'k', '--absent', 'v'],
        ['incr', 'n'],
      ]) {
        const m = await member(mode);
        const r = await keel(m.endpoint, ...argv);
        expect(r.code, `${mode} ${argv[0]}`).toBe(ExitCode.OutcomeUnknown);
        expect(r.out).toEqual([]);
        expect(r.err).toHaveLength(1);
        expect(r.err[0]).toMatch(
          new RegExp(
            `^keel ${argv[0]}: .*may or may not have been applied.*\\[KEEL_CLIENT_OUTCOME_UNKNOWN\\]$`,
          ),
        );
        expect(writes(m.received), `${mode} ${argv[0]}`).toHaveLength(1);
        // Without a session: nothing registered, nothing to close.
        expect(m.received.map((x) => x.command.type)).toEqual([argv[0]]);
      }
    }
  });

  it('put and del are retried until the deadline, then exit 5', async () => {
    for (const argv of [
      ['put', 'k', 'v'],
      ['del', 'k'],
    ]) {
      const m = await member('stopped');
      const r = await keel(m.endpoint, ...argv);
      expect(r.code).toBe(ExitCode.OutcomeUnknown);
      expect(r.err[0]).toContain('may or may not have been applied');
      expect(writes(m.received).length).toBeGreaterThan(1);
    }
  });

  it('with --session, registering the session is retried as any session write', async () => {
    const m = await member('stopped');
    const r = await keel(m.endpoint, 'cas', 'k', '--absent', 'v', '--session');
    expect(r.code).toBe(ExitCode.OutcomeUnknown);
    // Registering the session is itself refused with `stopped`, retried until the deadline.
    expect(m.received.length).toBeGreaterThan(1);
    expect(
      m.received.every((x) => x.command.type === 'registerSession' || x.command.type === 'closeSession'),
    ).toBe(true);
  });

  it('a read that fails is never unknown: exit 1', async () => {
    const m = await member('stopped');
    const r = await keel(m.endpoint, 'get', 'k');
    expect(r.code).toBe(ExitCode.Failure);
    expect(r.err[0]).toMatch(/^keel get: .*\[KEEL_CLIENT_TIMEOUT\]/);
  });
});
