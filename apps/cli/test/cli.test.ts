import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExitCode, runCli } from '../src/index.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('keel', () => {
  it('prints help with exit 0 on --help', async () => {
    const c = capture();
    expect(await runCli(['--help'], c.io)).toBe(ExitCode.Ok);
    expect(c.out.join('\n')).toContain('Usage: keel <command>');
  });

  it('lists chaos in the help and hands its flags to @keel/chaos (a bad flag: exit 2)', async () => {
    const c = capture();
    await runCli(['--help'], c.io);
    expect(c.out.join('\n')).toMatch(/^ {2}chaos \[--nodes 3\|5\]/m);
    const writes: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((t: string) => writes.push(t) > 0) as unknown as typeof process.stderr.write;
    try {
      expect(await runCli(['chaos', '--nodes', '4'], c.io)).toBe(ExitCode.Usage);
    } finally {
      process.stderr.write = write;
    }
    expect(writes.join('').split('\n')[0]).toBe('keel chaos: --nodes must be 3 or 5, not 4');
  });

  it('rejects an unknown command in one line with exit 2', async () => {
    const c = capture();
    expect(await runCli(['frobnicate'], c.io)).toBe(ExitCode.Usage);
    expect(c.err).toEqual(["keel: unknown command 'frobnicate'; run 'keel --help' for the list"]);
  });

  it('refuses an invalid member id (issue #22) in one line with exit 2, before any request', async () => {
    for (const id of ['__proto__', '_x', 'a b']) {
      const c = capture();
      expect(await runCli(['members', 'remove', id, '--endpoint', '127.0.0.1:1'], c.io)).toBe(ExitCode.Usage);
      expect(c.err).toEqual([
        `keel members remove: member id ${JSON.stringify(id)} is invalid: must be 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit; run 'keel members --help'`,
      ]);
    }
  });

  it('runs as a real process from the built bin, and says which build it is', () => {
    const bin = fileURLToPath(new URL('../bin/keel.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`keel ${version}`);
    // The commit `pnpm build` saw (null outside a git checkout), when and with which Node it built.
    expect(lines[1]).toMatch(
      /^commit: ([0-9a-f]{12}(\+dirty)?|unknown \(built outside a git checkout\)), built \d{4}-\d\d-\d\dT.* with Node\.js v\d+/,
    );
    expect(lines[2]).toBe(`node: ${process.version} (${process.platform} ${process.arch})`);
    expect(r.status).toBe(0);
  });

  it('--version from source says it is not a build', async () => {
    const c = capture();
    expect(await runCli(['--version'], c.io)).toBe(ExitCode.Ok);
    expect(c.out[0]).toMatch(/^keel \d+\.\d+\.\d+/);
    expect(c.out[1]).toBe('commit: unknown (running from source, not a build)');
  });
});
