/**
 * One process per WAL directory: a second opener — another process, or this one — is refused with
 * KEEL_WAL_LOCKED; a lock left by a process that died is taken over; openers racing for a stale
 * lock end with exactly one owner.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockName } from '../src/DirLock.js';
import { openLog, type WalError } from '../src/index.js';
import { compileForNode } from './compile.js';
import { mkEntries, recordingLogger, tempDir } from './helpers.js';

let child = '';
let removeChild: (() => Promise<void>) | null = null;
const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  const c = await compileForNode(fileURLToPath(new URL('./fixtures/holder.ts', import.meta.url)));
  child = c.file;
  removeChild = c.cleanup;
});
afterEach(async () => {
  for (const p of children.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  while (cleanups.length) await cleanups.pop()!();
});
afterAll(async () => {
  await removeChild?.();
});

async function dir(): Promise<string> {
  const t = await tempDir('keel-lock-');
  cleanups.push(t.cleanup);
  return t.dir;
}

interface Holder {
  readonly proc: ChildProcess;
  /** "ok <pid>" or "err <code>". */
  readonly line: Promise<string>;
  readonly exited: Promise<number | string | null>;
}

function startHolder(walDir: string): Holder {
  const proc = spawn(process.execPath, [child, walDir], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const line = new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    proc.on('exit', () => reject(new Error(`child exited before reporting; stderr: ${err}`)));
  });
  line.catch(() => {});
  const exited = new Promise<number | string | null>((resolve) =>
    proc.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  return { proc, line, exited };
}

/** The lock generations (LOCK.<gen>) in a directory. */
async function lockFiles(walDir: string): Promise<string[]> {
  return (await readdir(walDir)).filter((n) => /^LOCK\.\d{20}$/.test(n)).sort();
}

function refusal(p: Promise<unknown>): Promise<WalError | null> {
  return p.then(
    () => null,
    (e: unknown) => e as WalError,
  );
}

describe('directory lock', () => {
  it('refuses a second open in the same process until the first is closed', async () => {
    const d = await dir();
    const log = await openLog(d);
    const err = await refusal(openLog(d));
    expect(err?.code).toBe('KEEL_WAL_LOCKED');
    expect(err?.message).toContain(`in use by this process (pid ${process.pid})`);
    // The refused open changed nothing: the owner keeps working.
    await new Promise<void>((res, rej) => log.append(mkEntries(1, 4, 1), null, (e) => (e ? rej(e) : res())));
    await log.close();
    const again = await openLog(d);
    expect(again.lastIndex()).toBe(3);
    await again.close();
    // Released: one marker file is left, no live lock, no temp files.
    const left = await lockFiles(d);
    expect(left).toHaveLength(1);
    expect(readFileSync(join(d, left[0]!), 'utf8')).toContain('released');
    expect((await readdir(d)).filter((n) => n.startsWith('LOCK.tmp-'))).toEqual([]);
  });

  it('refuses a directory another process holds, naming it, and opens once it exits', async () => {
    const d = await dir();
    const h = startHolder(d);
    const line = await h.line;
    expect(line).toMatch(/^ok \d+$/);
    const pid = Number(line.split(' ')[1]);
    const err = await refusal(openLog(d));
    expect(err?.code).toBe('KEEL_WAL_LOCKED');
    expect(err?.message).toContain(`process ${pid} on ${hostname()}`);
    expect(err?.file).toMatch(/LOCK\.\d{20}$/);
    h.proc.stdin!.end();
    expect(await h.exited).toBe(0);
    const log = await openLog(d);
    await log.close();
  });

  it('a child process is refused while this process holds the directory', async () => {
    const d = await dir();
    const log = await openLog(d);
    const h = startHolder(d);
    expect(await h.line).toBe('err KEEL_WAL_LOCKED');
    expect(await h.exited).toBe(3);
    await log.close();
  });

  it('takes over a lock left by a process killed with SIGKILL', async () => {
    const d = await dir();
    const h = startHolder(d);
    const pid = Number((await h.line).split(' ')[1]);
    h.proc.kill('SIGKILL');
    await h.exited;
    const stale = await lockFiles(d);
    expect(stale.some((n) => readFileSync(join(d, n), 'utf8').includes(`pid=${pid}\n`))).toBe(true);
    const logger = recordingLogger();
    const log = await openLog(d, { logger });
    const warn = logger.logs.find((l) => l.level === 'warn' && /taking over/.test(l.msg));
    expect(warn?.obj).toMatchObject({ pid });
    // Only our lock file is left (the dead one and its temp files are gone).
    const files = await lockFiles(d);
    expect(files).toHaveLength(1);
    const temps = (await readdir(d)).filter((n) => n.startsWith('LOCK.tmp-'));
    expect(temps.every((n) => n.startsWith(`LOCK.tmp-${process.pid}-`))).toBe(true);
    expect(readFileSync(join(d, files[0]!), 'utf8')).toContain(`pid=${process.pid}\n`);
    await log.close();
  });

  it('openers racing for a stale lock end with exactly one owner', async () => {
    for (let round = 0; round < 3; round++) {
      const d = await dir();
      const dead = startHolder(d);
      await dead.line;
      dead.proc.kill('SIGKILL');
      await dead.exited;
      const racers = Array.from({ length: 4 }, () => startHolder(d));
      const lines = await Promise.all(racers.map((r) => r.line));
      expect(
        lines.filter((l) => l.startsWith('ok ')),
        `round ${round}: ${lines.join(', ')}`,
      ).toHaveLength(1);
      expect(lines.filter((l) => l === 'err KEEL_WAL_LOCKED')).toHaveLength(3);
      for (const r of racers) r.proc.stdin!.end();
      await Promise.all(racers.map((r) => r.exited));
    }
  }, 180_000);

  it('respects a live owner whatever its file says, and never takes over another host’s lock', async () => {
    const d = await dir();
    const stat = readFileSync('/proc/1/stat', 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const write = (gen: number, fields: string) =>
      writeFile(join(d, lockName(gen)), `keel-wal-lock 1\n${fields}nonce=ab\n`);
    // PID 1 is alive and started when the file says: in use.
    await write(5, `pid=1\nhost=${hostname()}\nboot=${boot}\nstart=${start}\n`);
    expect((await refusal(openLog(d)))?.code).toBe('KEEL_WAL_LOCKED');
    // The same PID with another start time is another process (the PID was reused): stale.
    await write(6, `pid=1\nhost=${hostname()}\nboot=${boot}\nstart=1${start}\n`);
    const log = await openLog(d);
    await log.close();
    // Another host: cannot be checked from here, so it is never taken over.
    const files = await lockFiles(d);
    const top = Number(files.at(-1)!.slice(5));
    await write(top + 1, 'pid=999999\nhost=some-other-host\nboot=x\nstart=1\n');
    const err = await refusal(openLog(d));
    expect(err?.code).toBe('KEEL_WAL_LOCKED');
    expect(err?.message).toMatch(/some-other-host.*cannot be checked/);
  });
  it('takes over a lock whose owner has exited but is not reaped yet (a zombie)', async () => {
    const d = await dir();
    // sh starts a child, prints its PID and becomes `sleep`, which never reaps it: once the child
    // exits it stays a zombie. (The child lives 1 s, so that sh has exec'd before it exits: sh
    // itself would reap it, and a busy machine made `true &` exit before the exec.)
    const sh = spawn('sh', ['-c', 'sleep 1 & echo $!; exec sleep 30'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(sh);
    const pid = Number(
      await new Promise<string>((resolve) =>
        sh.stdout!.once('data', (b: Buffer) => resolve(b.toString().trim())),
      ),
    );
    const state = () => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    };
    const deadline = Date.now() + 20_000;
    while (state()[0] !== 'Z' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(state()[0]).toBe('Z');
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    await writeFile(
      join(d, lockName(3)),
      `keel-wal-lock 1\npid=${pid}\nhost=${hostname()}\nboot=${boot}\nstart=${state()[19]}\nnonce=ab\n`,
    );
    // kill(pid, 0) still succeeds on a zombie; it holds nothing, so the lock is stale.
    const log = await openLog(d);
    await log.close();
  });
});
