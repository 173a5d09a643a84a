import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchStatus, type MemberStatus } from '@keel/ops';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClusterFile } from '../src/cluster/ClusterFile.js';
import { memberProgram } from '../src/cluster/paths.js';
import { ExitCode, runCli } from '../src/index.js';
import { CLI_MAIN, capture, ProcessTracker, tempDir, until, upDetached } from './helpers.js';

// Issue #19 parts 1, 2 and 4 through the real `keel` against a real 3-member cluster: values from
// stdin and back without loss, what a script sees (exit codes, empty output, JSON lines), and the
// log entries each one-shot write costs. The byte-exact cases run `keel` as its own process (real
// stdin and stdout); the others call runCli in this process (same code, faster). Every PID is
// killed in afterAll.
const MAIN = memberProgram({});
const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
const tracker = new ProcessTracker();
const tmp = tempDir('kv-values');
const dir = join(tmp.path, 'cluster');
const env = { ...process.env };
delete env.KEEL_MEMBER_PROGRAM;
const MiB = 1024 * 1024;

afterAll(() => {
  tracker.trackClusterDir(dir);
  tracker.killAll();
  tmp.remove();
});

async function cli(...argv: string[]) {
  const c = capture({ env }, tracker, MAIN);
  // Generous deadlines: a busy two-core machine can stretch a 5 MB write or an election.
  const code = await runCli([...argv, '--dir', dir, '--timeout', '20'], c.io);
  return { code, out: c.out, err: c.err };
}

/** `keel ...` as a process of its own, with `stdin` piped in; killed (by PID) after 60 s. */
function keel(args: readonly string[], stdin?: Uint8Array) {
  return new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', CLI_MAIN, ...args, '--dir', dir, '--timeout', '20'],
      { cwd: APP_DIR, env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    if (child.pid !== undefined) tracker.track(child.pid, CLI_MAIN);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keel ${args.join(' ')}: no exit within 60 s`));
    }, 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined); // it may exit before reading everything (too large)
    child.stdin.end(stdin ?? new Uint8Array());
  });
}

async function statuses(): Promise<MemberStatus[]> {
  const file = readClusterFile(dir);
  const all = await Promise.all(
    (file?.members ?? []).map((m) => fetchStatus(`127.0.0.1:${m.ports.http}`, 1000)),
  );
  return all.filter((s): s is MemberStatus => s !== null);
}

async function leader(): Promise<MemberStatus> {
  return until('a leader', 30_000, async () => (await statuses()).find((s) => s.role === 'leader'));
}

/**
 * Log entries that `run` appended: the leader's commit index before and after. "After" is read
 * once it is `expected` or more ahead (with `--session`, the best-effort closeSession may still be
 * in flight when the command returns), or after 10 s. An excess still shows: the writes themselves
 * are committed before each command returns. Measured again (at most 3 times) when leadership
 * moved meanwhile, since a new leader appends its own no-op entry.
 */
async function entriesFor(expected: number, run: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 3; i++) {
    const before = await leader();
    await run();
    let after: MemberStatus | undefined;
    try {
      after = await until(`${expected} more entries on ${before.id}`, 10_000, async () => {
        const s = (await statuses()).find((x) => x.id === before.id);
        return s !== undefined && s.commitIndex - before.commitIndex >= expected ? s : undefined;
      });
    } catch {
      after = (await statuses()).find((x) => x.id === before.id);
    }
    if (after?.role === 'leader' && after.term === before.term) return after.commitIndex - before.commitIndex;
  }
  throw new Error('leadership moved in each of 3 measurements');
}

describe.skipIf(!existsSync(MAIN))('keel values, outputs and writes against a real cluster', () => {
  beforeAll(async () => {
    await upDetached(cli);
    tracker.trackClusterDir(dir);
  }, 60_000);

  it('round-trips a 5 MB value of every byte value: stdin in; --json, --base64 and raw bytes out', async () => {
    const value = Buffer.from(Uint8Array.from({ length: 5_000_000 }, (_v, i) => (i * 7 + (i >> 8)) % 256));
    const put = await keel(['put', 'big', '-'], value);
    expect({ code: put.code, out: put.stdout.toString(), err: put.stderr }).toEqual({
      code: 0,
      out: 'OK\n',
      err: '',
    });

    const json = await keel(['get', 'big', '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout.toString());
    expect(doc).toMatchObject({ key: 'big', valueEncoding: 'base64' });
    expect(Buffer.from(doc.value, 'base64').equals(value)).toBe(true);

    const b64 = await keel(['get', 'big', '--base64']);
    expect(b64.code).toBe(0);
    expect(Buffer.from(b64.stdout.toString(), 'base64').equals(value)).toBe(true);

    const raw = await keel(['get', 'big']);
    expect(raw.code).toBe(0);
    expect(raw.stdout.equals(Buffer.concat([value, Buffer.from('\n')]))).toBe(true);

    // Base64 from stdin (as `base64 file | keel put k - --base64`, line-wrapped) decodes to the same bytes.
    const wrapped = (value.toString('base64').match(/.{1,76}/g) ?? []).join('\n');
    expect((await keel(['put', 'big2', '-', '--base64'], Buffer.from(wrapped))).code).toBe(0);
    const hex = await cli('get', 'big2', '--hex');
    expect(Buffer.from(hex.out.join(''), 'hex').equals(value)).toBe(true);
  });

  it('refuses a value over 8 MiB before sending: exit 2, one line on stderr, nothing on stdout', async () => {
    const r = await keel(['put', 'huge', '-'], Buffer.alloc(8 * MiB + 1, 0x61));
    expect(r.code).toBe(ExitCode.Usage);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toBe(
      "keel put: the value from standard input is more than 8388608 bytes (8 MiB), the store's limit for one value; run 'keel put --help'\n",
    );
    expect((await cli('get', 'huge')).code).toBe(ExitCode.Failure);
  });

  it('lets a script tell missing and empty from a value: exit 1 and empty stdout, empty listings print nothing', async () => {
    const missing = await keel(['get', 'no-such-key']);
    expect({ code: missing.code, out: missing.stdout.length, err: missing.stderr }).toEqual({
      code: ExitCode.Failure,
      out: 0,
      err: 'keel get: "no-such-key" not found\n',
    });
    expect(await cli('scan', '--prefix', 'nothing/')).toEqual({ code: ExitCode.Ok, out: [], err: [] });
    expect(await cli('get', '--prefix', 'nothing/', '--json')).toEqual({
      code: ExitCode.Ok,
      out: [],
      err: [],
    });
    expect(await cli('scan', '--prefix', 'nothing/', '--count-only')).toEqual({
      code: 0,
      out: ['0'],
      err: [],
    });
    expect(await cli('get', 'no-such-key', '--count-only')).toEqual({ code: 0, out: ['0'], err: [] });
    expect(await cli('del', 'no-such-key')).toEqual({ code: ExitCode.Ok, out: ['0'], err: [] });
    // An empty value is a value: exit 0 and an empty line.
    expect((await cli('put', 'empty', '')).code).toBe(0);
    expect(await cli('get', 'empty')).toEqual({ code: 0, out: [''], err: [] });
  });

  it('prints listings as JSON lines without loss, and --prefix/--limit/--keys-only/--count-only alike in get, scan, del', async () => {
    expect((await cli('put', 'l/tab\tkey', 'line1\nline2')).code).toBe(0);
    expect((await cli('put', 'l/b', '00ff', '--hex')).code).toBe(0);
    expect((await cli('put', '6c2f63', 'c', '--key-hex')).code).toBe(0); // "l/c"
    const lines = (await cli('scan', '--prefix', 'l/', '--json')).out.map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.key, l.value, l.valueEncoding])).toEqual([
      ['l/b', 'AP8=', 'base64'],
      ['l/c', 'c', undefined],
      ['l/tab\tkey', 'line1\nline2', undefined],
    ]);
    expect((await cli('get', '--prefix', 'l/', '--json')).out).toEqual(
      (await cli('scan', '--prefix', 'l/', '--json')).out,
    );
    expect((await cli('scan', '--prefix', 'l/', '--keys-only', '--limit', '2')).out).toEqual(['l/b', 'l/c']);
    expect((await cli('get', '--prefix', 'l/', '--count-only')).out).toEqual(['3']);
    expect((await cli('scan', '--prefix', '6c2f', '--base64', '--key-hex', '--limit', '1')).out).toEqual([
      '6c2f62\tAP8=',
    ]);
    expect(await cli('del', '--prefix', 'l/', '--limit', '2', '--keys-only')).toEqual({
      code: 0,
      out: ['l/b', 'l/c'],
      err: [],
    });
    expect(await cli('del', '--prefix', 'l/')).toEqual({ code: 0, out: ['1'], err: [] });
    expect((await cli('scan', '--prefix', 'l/')).out).toEqual([]);
  });

  it('incr and cas through the CLI; a bad delta or a non-integer is one line', async () => {
    expect(await cli('incr', 'ctr')).toEqual({ code: 0, out: ['1'], err: [] });
    expect(await cli('incr', 'ctr', '-3')).toEqual({ code: 0, out: ['-2'], err: [] });
    expect(JSON.parse((await cli('incr', 'ctr', '10', '--json')).out.join(''))).toMatchObject({
      ok: true,
      value: 8,
    });
    expect((await cli('put', 'word', 'abc')).code).toBe(0);
    const bad = await cli('incr', 'word');
    expect(bad.code).toBe(ExitCode.Failure);
    expect(bad.out).toEqual([]);
    expect(bad.err).toHaveLength(1);
    expect(bad.err[0]).toMatch(/^keel incr: 'word' is not changed: /);
    expect((await cli('incr', 'ctr', '1.5')).code).toBe(ExitCode.Usage);
    const stdin = (async function* () {
      yield new TextEncoder().encode('from stdin');
    })();
    const c = capture({ env, stdin });
    expect(await runCli(['cas', 'word', 'abc', '-', '--dir', dir, '--timeout', '20'], c.io)).toBe(
      ExitCode.Ok,
    );
    expect((await cli('get', 'word')).out).toEqual(['from stdin']);
  });

  it('writes one log entry per one-shot put, del, cas and incr (three with --session)', async () => {
    const N = 5;
    const each = (f: (i: number) => Promise<{ code: number }>) => async () => {
      for (let i = 0; i < N; i++) expect((await f(i)).code).toBe(ExitCode.Ok);
    };
    expect(
      await entriesFor(
        N,
        each((i) => cli('put', `e/${i}`, 'v')),
      ),
    ).toBe(N);
    expect(
      await entriesFor(
        N,
        each((i) => cli('cas', `e/${i}`, 'v', 'w')),
      ),
    ).toBe(N);
    expect(
      await entriesFor(
        N,
        each((i) => cli('incr', `c/${i}`)),
      ),
    ).toBe(N);
    expect(
      await entriesFor(
        N,
        each((i) => cli('del', `e/${i}`)),
      ),
    ).toBe(N);
    expect(
      await entriesFor(
        3 * N,
        each((i) => cli('put', `e/${i}`, 'v', '--session')),
      ),
    ).toBe(3 * N);
  });
});
