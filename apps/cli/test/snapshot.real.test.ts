import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readClusterFile } from '../src/cluster/ClusterFile.js';
import { memberProgram } from '../src/cluster/paths.js';
import { ExitCode, runCli } from '../src/index.js';
import { capture, freeBasePort, ProcessTracker, tempDir, until, upDetached } from './helpers.js';

// Backup, restore and leader moves on real `keel node` processes (apps/node's build: run
// `pnpm exec turbo run build --filter=@keel/node` before running this file alone). The commands
// are the ones docs/operations.md shows.
const MAIN = memberProgram({});
const tracker = new ProcessTracker();
const tmp = tempDir('ops');
const source = join(tmp.path, 'source');
const restored = join(tmp.path, 'restored');
afterEach(() => {
  for (const d of [source, restored]) tracker.trackClusterDir(d);
  tracker.killAll();
});
afterAll(() => tmp.remove());

const env = { ...process.env };
delete env.KEEL_MEMBER_PROGRAM;

async function cli(...argv: string[]) {
  const c = capture({ env, cwd: tmp.path }, tracker, MAIN);
  const code = await runCli(argv, c.io);
  return { code, out: c.out, err: c.err };
}

interface StatusJson {
  leader: string | null;
  members: { id: string; state: string; leader: string | null; role: string | null }[];
}

async function settledLeader(dir: string): Promise<StatusJson> {
  return until('every member to follow one leader', 30_000, async () => {
    const r = await cli('cluster', 'status', '--json', '--dir', dir);
    if (r.code !== ExitCode.Ok) return undefined;
    const s = JSON.parse(r.out.join('\n')) as StatusJson;
    return s.leader !== null && s.members.every((m) => m.state === 'running' && m.leader === s.leader)
      ? s
      : undefined;
  });
}

const KEYS = 40;
const valueFor = (i: number): string => `value-${i}-${'x'.repeat(i * 50)}`;

describe.skipIf(!existsSync(MAIN))('keel snapshot and keel leader on a real cluster', () => {
  it('saves a backup, verifies it, restores it into a new cluster with every key, refuses damaged files, moves the leader', async () => {
    await upDetached(cli, ['--dir', source]);
    for (let i = 0; i < KEYS; i++) {
      const put = await cli(
        'put',
        `key/${String(i).padStart(3, '0')}`,
        valueFor(i),
        '--timeout',
        '20',
        '--dir',
        source,
      );
      expect(put.err).toEqual([]);
      expect(put.code).toBe(ExitCode.Ok);
    }
    // One key deleted: the backup holds the store as it is, not the history.
    expect((await cli('del', 'key/000', '--timeout', '20', '--dir', source)).code).toBe(ExitCode.Ok);

    // save → status
    const save = await cli('snapshot', 'save', 'backup.kbak', '--dir', source, '--timeout', '20');
    expect(save.err).toEqual([]);
    expect(save.code).toBe(ExitCode.Ok);
    expect(save.out.join('\n')).toMatch(
      /^saved backup\.kbak: index \d+ \(term \d+\), revision \d+, 39 keys, /,
    );
    const status = await cli('snapshot', 'status', 'backup.kbak', '--json');
    expect(status.code).toBe(ExitCode.Ok);
    const st = JSON.parse(status.out.join('\n')) as Record<string, unknown>;
    // 40 puts and a delete: revision 41, or more when a put whose answer was lost was retried
    // (a put applied twice leaves the same value and a higher revision).
    expect(st).toMatchObject({ ok: true, checksum: 'ok', format: 'keel-kv', keys: 39 });
    const revision = st.revision as number;
    expect(revision).toBeGreaterThanOrEqual(41);
    expect(save.out.join('\n')).toContain(`revision ${revision}, `);
    expect(st.voters).toEqual(['n1', 'n2', 'n3']);
    expect(st.index as number).toBeGreaterThan(KEYS);
    // On a terminal, save shows the transfer's progress (redrawn in place) and ends it at 100%.
    const writes: string[] = [];
    const tty = capture({ env, cwd: tmp.path, isTTY: true, write: (t) => writes.push(t) }, tracker, MAIN);
    expect(await runCli(['snapshot', 'save', 'tty.kbak', '--dir', source], tty.io)).toBe(ExitCode.Ok);
    expect(writes.join('')).toMatch(
      /downloading from 127\.0\.0\.1:\d+: [\d.]+ KiB of [\d.]+ KiB \(100%\)\n$/,
    );
    // Named by their admin addresses instead of a cluster dir: the leader among them is asked.
    const file = readClusterFile(source)!;
    const admin = file.members.map((m) => `${file.host}:${m.ports.http}`).join(',');
    const byAddress = await cli(
      'snapshot',
      'save',
      'by-address.kbak',
      '--admin-endpoints',
      admin,
      '--timeout',
      '20',
    );
    expect(byAddress.err).toEqual([]);
    expect(byAddress.code).toBe(ExitCode.Ok);
    const table = await cli('snapshot', 'status', 'backup.kbak');
    expect(table.out[1]).toMatch(/^checksum +ok /);
    expect(table.out).toContain('keys      39');

    // A damaged file, a truncated one and a foreign one: status and restore refuse (exit 1).
    const good = readFileSync(join(tmp.path, 'backup.kbak'));
    const flipped = Buffer.from(good);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
    writeFileSync(join(tmp.path, 'flipped.kbak'), flipped);
    writeFileSync(join(tmp.path, 'short.kbak'), good.subarray(0, good.length - 100));
    writeFileSync(join(tmp.path, 'foreign.kbak'), 'hello, not a backup at all\n');
    for (const [f, why] of [
      ['flipped.kbak', /checksum mismatch/],
      ['short.kbak', /checksum mismatch/],
      ['foreign.kbak', /not a Keel backup/],
    ] as const) {
      const s = await cli('snapshot', 'status', f);
      expect(s.code).toBe(ExitCode.Failure);
      expect(s.err.join('\n')).toMatch(new RegExp(`^keel snapshot status: ${f} is not a usable backup: `));
      expect(s.err.join('\n')).toMatch(why);
      const r = await cli('snapshot', 'restore', f, '--dir', join(tmp.path, `never-${f}`));
      expect(r.code).toBe(ExitCode.Failure);
      expect(existsSync(join(tmp.path, `never-${f}`))).toBe(false);
    }

    // leader move to a follower → it leads; unknown ids are refused.
    const before = await settledLeader(source);
    const target = ['n1', 'n2', 'n3'].find((id) => id !== before.leader)!;
    const unknown = await cli('leader', 'move', 'n9', '--dir', source);
    expect(unknown.code).toBe(ExitCode.Failure);
    expect(unknown.err.join('\n')).toMatch(/unknown member 'n9'/);
    const move = await cli('leader', 'move', target, '--dir', source, '--timeout', '20');
    expect(move.err.filter((l) => !l.includes('handing leadership'))).toEqual([]);
    expect(move.code).toBe(ExitCode.Ok);
    // Who led before may have changed meanwhile (an election on a busy machine): exit 0 is the
    // contract, and the line names the target either way.
    expect(move.out.join('\n')).toMatch(
      new RegExp(`^${target} (leads \\(term \\d+; was n[123]\\)|already leads \\(term \\d+\\))$`),
    );
    expect((await cli('cluster', 'down', '--dir', source)).code).toBe(ExitCode.Ok);

    // restore → cluster up there → every key with the same value.
    const base2 = await freeBasePort(3, 21000, 31000);
    const restore = await cli(
      'snapshot',
      'restore',
      'backup.kbak',
      '--dir',
      restored,
      '-n',
      '3',
      '--base-port',
      String(base2),
    );
    expect(restore.err).toEqual([]);
    expect(restore.code).toBe(ExitCode.Ok);
    expect(restore.out.at(-1)).toBe(`start it with: keel cluster up --dir ${restored}`);
    const again = await cli('snapshot', 'restore', 'backup.kbak', '--dir', restored);
    expect(again.code).toBe(ExitCode.Failure);
    expect(again.err.join('\n')).toMatch(/is not empty; restore into a new directory/);
    const up2 = await cli('cluster', 'up', '--detach', '--timeout', '20', '--dir', restored);
    expect(up2.err).toEqual([]);
    expect(up2.code).toBe(ExitCode.Ok);
    const scan = await cli('scan', '--json', '--timeout', '20', '--dir', restored);
    expect(scan.code).toBe(ExitCode.Ok);
    const kvs = scan.out.map((l) => JSON.parse(l) as { key: string; value: string; modRevision: number });
    expect(kvs.map((kv) => kv.key)).toEqual(
      Array.from({ length: KEYS - 1 }, (_v, i) => `key/${String(i + 1).padStart(3, '0')}`),
    );
    for (const kv of kvs) expect(kv.value).toBe(valueFor(Number(kv.key.slice(4))));
    // The restored store goes on from the backup's revision, and its cluster is a new one.
    const put = await cli('put', 'after', 'restore', '--json', '--timeout', '20', '--dir', restored);
    expect((JSON.parse(put.out.join('\n')) as { revision: number }).revision).toBeGreaterThan(revision);
    // Stopped and started again, the restored members come back from their own WAL and snapshot.
    expect((await cli('cluster', 'down', '--dir', restored)).code).toBe(ExitCode.Ok);
    const up3 = await cli('cluster', 'up', '--detach', '--timeout', '20', '--dir', restored);
    expect(up3.code, up3.err.join(' | ')).toBe(ExitCode.Ok);
    expect((await cli('get', 'after', '--timeout', '20', '--dir', restored)).out).toEqual(['restore']);
    expect((await cli('get', 'key/007', '--timeout', '20', '--dir', restored)).out).toEqual([valueFor(7)]);
    expect((await cli('cluster', 'down', '--dir', restored)).code).toBe(ExitCode.Ok);
  }, 240_000);
});
