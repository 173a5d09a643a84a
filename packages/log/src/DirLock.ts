/**
 * One process per WAL directory. Node has no flock/fcntl locks, so the lock is a file: the owner
 * writes its identity (pid, host, boot id, process start time, a random nonce) to a temp file and
 * publishes it with link(2), which fails if the name exists and makes the file appear complete.
 *
 * The naive PID file (create with O_EXCL; if its PID is dead, unlink it and retry) is unsound when
 * two processes find the same stale lock: both judge it dead, one unlinks it and takes the lock,
 * then the other unlinks THAT one and takes it too. So lock files are numbered — `LOCK.<gen>` —
 * and taking a stale lock never removes it: the taker creates generation gen + 1 with link(2),
 * which only one process can do (a compare-and-swap on the directory). The rules:
 * - The current lock is the highest generation. It is never deleted; only lower generations are
 *   (by the process that holds a higher one), so the highest generation never goes down, and a
 *   generation that stopped being the highest can never be the highest again.
 * - To take the lock: read the highest generation g (none: g = 0). If it names a live process,
 *   refuse (KEEL_WAL_LOCKED). If it is released or its process is dead, link generation g + 1;
 *   then list again: if a higher generation exists, someone else won (after judging from an older
 *   listing), so remove ours and start over. Otherwise the lock is ours; delete the older files.
 * - To release: link generation g + 1 as a "released" marker (prepared while taking the lock, so
 *   releasing needs no free space), then remove ours.
 * Two processes holding the lock at once would need one of them to have read the other's live
 * file and judged it dead.
 *
 * "Dead" is decided on this host only: `kill(pid, 0)` says ESRCH, or (Linux) the boot id differs
 * (the machine restarted), the process has exited and waits to be reaped (a zombie), or the
 * process with that PID started at another time (the PID was reused). A lock from another host (a shared file system) is never taken over: only an operator
 * can tell whether that host still runs it.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { WalError, WalErrorCode } from './errors.js';
import type { WalLogger } from './types.js';

const LOCK_RE = /^LOCK\.(\d{20})$/;
const TEMP_RE = /^LOCK\.tmp-(\d+)-[0-9a-f]+(?:-released)?$/;
const MAGIC = 'keel-wal-lock 1';
/** Attempts when other openers keep winning the race (each loss means someone else now holds it). */
const MAX_ATTEMPTS = 32;

export function lockName(gen: number): string {
  return `LOCK.${String(gen).padStart(20, '0')}`;
}

interface Owner {
  readonly pid: number;
  readonly host: string;
  readonly boot: string;
  readonly start: string;
  readonly nonce: string;
}

type LockContent = { readonly released: true } | { readonly released: false; readonly owner: Owner };

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return fallback;
  }
}

const BOOT_ID = readOr('/proc/sys/kernel/random/boot_id', '');

/** Fields 3.. of /proc/<pid>/stat (state first), or [] off Linux or when it is gone. */
function statFields(pid: number): string[] {
  const stat = readOr(`/proc/${pid}/stat`, '');
  // The command name (field 2) is in parentheses and may itself contain spaces and parentheses.
  return stat === '' ? [] : stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), or '' off Linux. */
function startTime(pid: number): string {
  return statFields(pid)[19] ?? '';
}

/**
 * A zombie (state Z: exited, not yet reaped by its parent) or a dying process (X) holds no file
 * and writes nothing more. A supervisor that restarts a killed member before it reaped the old
 * process (a busy parent reaps late) must not find the WAL "in use" by it.
 */
function exited(pid: number): boolean {
  const state = statFields(pid)[0];
  return state === 'Z' || state === 'X';
}

function encode(c: LockContent): string {
  if (c.released) return `${MAGIC}\nreleased\n`;
  const o = c.owner;
  return `${MAGIC}\npid=${o.pid}\nhost=${o.host}\nboot=${o.boot}\nstart=${o.start}\nnonce=${o.nonce}\n`;
}

/** null: not a lock file this code wrote completely (a crash before the data reached the disk). */
function decode(text: string): LockContent | null {
  const lines = text.split('\n');
  if (lines[0] !== MAGIC) return null;
  if (lines[1] === 'released') return { released: true };
  const kv = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const eq = l.indexOf('=');
    if (eq > 0) kv.set(l.slice(0, eq), l.slice(eq + 1));
  }
  const pid = Number(kv.get('pid'));
  if (!Number.isSafeInteger(pid) || pid <= 0 || !kv.has('nonce')) return null;
  return {
    released: false,
    owner: {
      pid,
      host: kv.get('host') ?? '',
      boot: kv.get('boot') ?? '',
      start: kv.get('start') ?? '',
      nonce: kv.get('nonce')!,
    },
  };
}

/** 'alive', 'dead', or 'unknown' (another host: cannot be checked from here). */
function liveness(o: Owner): 'alive' | 'dead' | 'unknown' {
  if (o.host !== hostname()) return 'unknown';
  if (o.boot !== '' && BOOT_ID !== '' && o.boot !== BOOT_ID) return 'dead';
  try {
    process.kill(o.pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    if ((err as { code?: string }).code === 'ESRCH') return 'dead';
  }
  if (exited(o.pid)) return 'dead';
  if (o.start !== '') {
    const now = startTime(o.pid);
    if (now !== '' && now !== o.start) return 'dead';
  }
  return 'alive';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code !== 'ESRCH';
  }
}

async function generations(dir: string): Promise<number[]> {
  const gens: number[] = [];
  for (const name of await fsp.readdir(dir)) {
    const m = LOCK_RE.exec(name);
    if (m) gens.push(Number(m[1]));
  }
  return gens.sort((a, b) => a - b);
}

function code(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

/** The exclusive lock on a WAL directory, held from `acquire` until `release`. */
export class DirLock {
  readonly #dir: string;
  readonly #gen: number;
  /** A complete "released" file, linked in as the next generation on release. */
  readonly #releasedTemp: string;
  #released = false;

  private constructor(dir: string, gen: number, releasedTemp: string) {
    this.#dir = dir;
    this.#gen = gen;
    this.#releasedTemp = releasedTemp;
  }

  /** The lock file this process holds. */
  get file(): string {
    return join(this.#dir, lockName(this.#gen));
  }

  /**
   * Takes the lock on `dir` (which must exist) or throws KEEL_WAL_LOCKED naming the process that
   * holds it. A lock left by a dead process is taken over and logged.
   */
  static async acquire(dir: string, logger?: WalLogger): Promise<DirLock> {
    const nonce = randomBytes(8).toString('hex');
    const owner: Owner = {
      pid: process.pid,
      host: hostname(),
      boot: BOOT_ID,
      start: startTime(process.pid),
      nonce,
    };
    const mine = join(dir, `LOCK.tmp-${process.pid}-${nonce}`);
    const releasedTemp = `${mine}-released`;
    // Not fsynced: a lock only has to exclude processes that are running, and after a power loss
    // none are (an incomplete file reads as not ours and is taken over like a dead owner's).
    await fsp.writeFile(mine, encode({ released: false, owner }));
    try {
      await fsp.writeFile(releasedTemp, encode({ released: true }));
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const gens = await generations(dir);
        const top = gens[gens.length - 1] ?? 0;
        if (top > 0) {
          const path = join(dir, lockName(top));
          let text: string;
          try {
            text = await fsp.readFile(path, 'utf8');
          } catch (err) {
            if (code(err) === 'ENOENT') continue; // superseded meanwhile: look again
            throw err;
          }
          const content = decode(text);
          if (content !== null && !content.released) {
            const state = liveness(content.owner);
            if (state !== 'dead') {
              const o = content.owner;
              const who =
                o.pid === process.pid && o.host === owner.host
                  ? `this process (pid ${o.pid})`
                  : `process ${o.pid} on ${o.host}`;
              throw new WalError(
                WalErrorCode.Locked,
                `WAL directory ${dir} is in use by ${who} (lock file ${path})${state === 'unknown' ? '; it cannot be checked from this host: if that process is gone, remove the LOCK.* files' : ''}`,
                { file: path },
              );
            }
            logger?.warn(
              { file: path, pid: content.owner.pid, host: content.owner.host },
              'WAL: taking over a lock left by a process that is gone',
            );
          } else if (content === null) {
            logger?.warn({ file: path }, 'WAL: taking over an incomplete lock file (left by a crash)');
          }
        }
        const gen = top + 1;
        try {
          await fsp.link(mine, join(dir, lockName(gen)));
        } catch (err) {
          if (code(err) === 'EEXIST') continue; // another opener took gen first
          throw err;
        }
        const after = await generations(dir);
        if (after[after.length - 1]! > gen) {
          // Someone judged from an older listing and got further: ours is not the lock.
          await fsp.rm(join(dir, lockName(gen)), { force: true });
          continue;
        }
        for (const g of after) if (g < gen) await fsp.rm(join(dir, lockName(g)), { force: true });
        await removeDeadTemps(dir);
        return new DirLock(dir, gen, releasedTemp);
      }
      throw new WalError(
        WalErrorCode.Locked,
        `WAL directory ${dir}: could not take the lock after ${MAX_ATTEMPTS} attempts (other processes keep opening it)`,
      );
    } catch (err) {
      await fsp.rm(releasedTemp, { force: true });
      throw err;
    } finally {
      await fsp.rm(mine, { force: true });
    }
  }

  /** Releases the lock; idempotent. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    try {
      await fsp.link(this.#releasedTemp, join(this.#dir, lockName(this.#gen + 1)));
      await fsp.rm(this.file, { force: true });
    } finally {
      // If the marker could not be linked, our file stays: it names this process, which will be
      // gone soon, and a later opener takes it over then.
      await fsp.rm(this.#releasedTemp, { force: true });
    }
  }
}

/** Temp files of lock attempts by processes that died half-way. */
async function removeDeadTemps(dir: string): Promise<void> {
  for (const name of await fsp.readdir(dir)) {
    const m = TEMP_RE.exec(name);
    if (m && Number(m[1]) !== process.pid && !isAlive(Number(m[1]))) {
      await fsp.rm(join(dir, name), { force: true });
    }
  }
}
