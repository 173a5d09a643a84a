import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Operation } from '@keel/checker';
import { sleep } from '@keel/ops';
import { ChaosCluster } from './cluster.js';
import type { FaultEvent } from './faults.js';
import { checkLeases } from './leaseCheck.js';
import { LeaseWorkload } from './leaseWorkload.js';
import { checkFencedWrites } from './lockCheck.js';
import { LOCK_OWNER_KEY, LockWorkload } from './lockWorkload.js';
import { Nemesis } from './nemesis.js';
import { NetnsNetwork } from './netns.js';
import { buildSchedule, describeStep, type FaultFamily, type FaultStep } from './schedule.js';
import { type ChaosVerdict, type Convergence, judge } from './verdict.js';
import { checkWatchStream, WatchRecorder } from './watchCheck.js';
import { Workload } from './workload.js';

export interface ChaosOptions {
  readonly nodes: number;
  readonly durationMs: number;
  readonly faults: readonly FaultFamily[];
  readonly seed: number;
  readonly netns: boolean;
  readonly clients: number;
  readonly keys: number;
  /** Percent of register operations that are multi-key transactions (groups of up to 3 registers). */
  readonly txnPercent: number;
  /** Clients that loop grant → put with the lease → keep alive → let go (leaseCheck.ts); 0: none. */
  readonly leaseClients: number;
  /** Clients that loop acquire → fenced writes → release on one `Lock` (lockCheck.ts); 0: none. */
  readonly lockClients: number;
  readonly maxOps: number;
  readonly opTimeoutMs: number;
  readonly thinkMs: number;
  /** After the heal: how long the cluster gets before the final reads and the convergence check. */
  readonly quietMs: number;
  readonly checkBudgetMs: number;
  /** Extra `keel node` flags. */
  readonly memberArgs: readonly string[];
  /** Keep the members' data dirs (logs, WALs) instead of deleting them. */
  readonly keepDir?: string;
}

export const DEFAULT_CHAOS: Omit<ChaosOptions, 'seed' | 'faults'> = {
  nodes: 3,
  durationMs: 60_000,
  netns: false,
  clients: 8,
  keys: 5,
  txnPercent: 0,
  leaseClients: 2,
  lockClients: 3,
  maxOps: 200_000,
  opTimeoutMs: 2000,
  thinkMs: 10,
  quietMs: 2000,
  checkBudgetMs: 120_000,
  memberArgs: [],
};

export interface ChaosRun {
  readonly options: ChaosOptions;
  readonly schedule: readonly FaultStep[];
  readonly history: readonly Operation[];
  readonly faults: readonly FaultEvent[];
  readonly verdict: ChaosVerdict;
  readonly errors: Readonly<Record<string, number>>;
  /** The run's span on its clock (ms): the workload started at 0. */
  readonly endMs: number;
  readonly memberIds: readonly string[];
}

export interface ChaosProgress {
  /** A line of progress (faults, phases). */
  line(text: string): void;
}

/**
 * One chaos run: start a cluster, load it, break it on schedule, heal it, read every key once more,
 * check that it takes a write and that the members converge, then judge the history. Every process
 * it starts is stopped (by PID) and every namespace removed before it returns or throws.
 */
export async function runChaos(o: ChaosOptions, progress: ChaosProgress): Promise<ChaosRun> {
  const schedule = buildSchedule({
    seed: o.seed,
    nodes: o.nodes,
    durationMs: o.durationMs,
    faults: o.faults,
    linkModes: !o.netns,
  });
  progress.line(
    `seed ${o.seed}: ${o.nodes} members, ${(o.durationMs / 1000).toFixed(0)} s, faults ${o.faults.join(',') || 'none'}, ${schedule.length} scheduled${o.netns ? ', network namespaces' : ', proxied links'}`,
  );
  for (const [i, s] of schedule.entries())
    progress.line(`  ${i}: +${(s.atMs / 1000).toFixed(1)} s ${describeStep(s)}`);

  const dir = o.keepDir ?? mkdtempSync(join(tmpdir(), 'keel-chaos-'));
  // Ctrl-C exits the process without reaching `finally`: the data dirs go on exit too.
  const removeDir = (): void => {
    if (o.keepDir === undefined) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  process.on('exit', removeDir);
  // Zero is when the workload starts (set again below), so fault offsets read as the schedule's.
  let base = performance.now();
  const clock = (): number => Math.round((performance.now() - base) * 1000) / 1000;
  let cluster: ChaosCluster | null = null;
  let workload: Workload | null = null;
  try {
    cluster = await ChaosCluster.start({
      nodes: o.nodes,
      dir,
      netns: o.netns,
      seed: o.seed,
      memberArgs: o.memberArgs,
    });
    const c = cluster;
    if (c.network instanceof NetnsNetwork) {
      progress.line(
        `network namespaces ${c.network.namespaces.join(', ')} on ${c.network.subnet}.0/24 (members bind 0.0.0.0, advertise ${c.members.map((m) => m.client.split(':')[0]).join(', ')})`,
      );
    }
    await waitFor(
      async () => (await c.leader()) !== null,
      30_000,
      'no leader elected within 30 s of the start',
    );
    const members = new Map(c.members.map((m) => [m.id, m.client]));
    workload = new Workload({
      members,
      clients: o.clients,
      keys: o.keys,
      txns: o.txnPercent / 100,
      maxOps: o.maxOps,
      opTimeoutMs: o.opTimeoutMs,
      thinkMs: o.thinkMs,
      seed: o.seed,
      clock,
    });
    const w = workload;
    const leases = new LeaseWorkload({
      client: () => w.client(),
      workers: o.leaseClients,
      ttlSeconds: LEASE_TTL_SECONDS,
      seed: o.seed,
      clock,
    });
    const nemesis = new Nemesis(c, clock, (l) => progress.line(`+${(clock() / 1000).toFixed(1)} s ${l}`));
    // A watcher on every key from revision 1, through every fault: its stream is judged below.
    const recorder = new WatchRecorder(w.client());
    recorder.start();
    base = performance.now();
    const t0 = clock();
    w.start();
    leases.start();
    const locks = new LockWorkload({ client: () => w.client(), clients: o.lockClients, seed: o.seed });
    locks.start();
    const ticker = setInterval(() => {
      const h = w.history;
      const ok = h.filter((x) => x.outcome.status === 'ok').length;
      progress.line(`+${(clock() / 1000).toFixed(0)} s ${h.length} ops (${ok} ok)`);
    }, 10_000);
    try {
      // Every step ends within the run by construction; the timer only guards against a hung one.
      let guard: NodeJS.Timeout | undefined;
      await Promise.race([
        nemesis.run(schedule, t0),
        new Promise<void>((r) => {
          guard = setTimeout(r, o.durationMs + 30_000);
        }),
      ]);
      clearTimeout(guard);
      const left = t0 + o.durationMs - clock();
      if (left > 0) await sleep(left);
      nemesis.stop();
      await Promise.all([w.stop(), locks.stop()]);
    } finally {
      clearInterval(ticker);
    }
    progress.line(
      `+${(clock() / 1000).toFixed(1)} s workload stopped after ${w.history.length} ops; healing`,
    );
    await nemesis.healAll();
    await sleep(o.quietMs);
    await waitFor(async () => (await c.leader()) !== null, 30_000, 'no leader within 30 s of the heal').catch(
      () => undefined,
    );
    // The lease clients renewed through every fault; now, under a stable leader, they let go and
    // wait for their keys to go.
    const stableFrom = clock();
    const leaseRecords = await leases.stop();
    const leaseCheck = checkLeases(leaseRecords, {
      boundMs: leaseBoundMs(o.memberArgs),
      stableFrom,
      endedAt: clock(),
    });

    // The final reads: one linearizable get per key, retried until one succeeds. One deadline for
    // all keys, not one per key: a cluster that cannot serve (amnesia) would otherwise hold the run
    // 30 s per key before the probe and the convergence check add their own bounds.
    const reader = w.client();
    const finalReads = new Map<string, Operation>();
    const readsDeadline = clock() + 30_000;
    for (const key of w.keyNames) {
      while (clock() < readsDeadline) {
        const v = await w.get('final', reader, key);
        if (v !== undefined) {
          finalReads.set(key, w.history[w.history.length - 1]!);
          break;
        }
      }
    }
    const serving = await probeWrite(w, clock);
    // Where the watch must get to: the store's revision after the probe (read linearizably).
    const to = await reader.get('probe').then(
      (r) => r.revision,
      () => recorder.revision,
    );
    await recorder.stopAt(to, 30_000);
    const convergence = await waitConverged(c, 30_000);
    progress.line(
      `+${(clock() / 1000).toFixed(1)} s checking ${w.history.length} operations (${convergence.ok ? 'members converged' : 'members did NOT converge'})`,
    );
    const history = [...w.history];
    const watch = checkWatchStream(
      recorder.events,
      1,
      to,
      history,
      finalReads,
      recorder.failure,
      recorder.restarts,
      recorder.moves,
    );
    const verdict = judge({
      history,
      finalReads,
      faults: nemesis.events,
      convergence,
      serving,
      crashes: c.crashes,
      checkBudgetMs: o.checkBudgetMs,
      watch,
      leases: leaseCheck,
      ...(o.lockClients > 0
        ? {
            locks: {
              check: checkFencedWrites(
                recorder.events
                  .filter((e) => e.key === LOCK_OWNER_KEY && e.type === 'put')
                  .map((e) => ({ revision: e.revision, value: e.value })),
              ),
              stats: locks.stats,
            },
          }
        : {}),
    });
    return {
      options: o,
      schedule,
      history,
      faults: nemesis.events,
      verdict,
      errors: Object.fromEntries(w.errors),
      endMs: clock(),
      memberIds: c.members.map((m) => m.id),
    };
  } finally {
    await workload?.close();
    await cluster?.stop();
    process.off('exit', removeDir);
    removeDir();
  }
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await cond()) return;
    await sleep(50);
  }
  throw new Error(message);
}

/** After the heal the cluster must take a write again (bounded retries). */
async function probeWrite(w: Workload, clock: () => number): Promise<{ ok: boolean; detail: string }> {
  const kv = w.client();
  const deadline = clock() + 30_000;
  let last = '';
  while (clock() < deadline) {
    try {
      await kv.put('probe', String(clock()));
      return { ok: true, detail: 'a write was acknowledged' };
    } catch (err) {
      last = (err as Error).message;
    }
  }
  return { ok: false, detail: `no write acknowledged within 30 s (last: ${last})` };
}

/** Every member answers, follows one leader, and has applied the same index to the same state. */
async function waitConverged(c: ChaosCluster, timeoutMs: number): Promise<Convergence> {
  const deadline = performance.now() + timeoutMs;
  let snapshot: Convergence = { ok: false, members: [], detail: 'no status yet' };
  while (performance.now() < deadline) {
    const st = await c.statuses(1000);
    const members = c.members.map((m, i) => ({
      id: m.id,
      appliedIndex: st[i]?.appliedIndex ?? null,
      stateHash: st[i]?.stateHash ?? null,
    }));
    const silent = members.filter((m) => m.appliedIndex === null).map((m) => m.id);
    const ids = c.members.map((m) => m.id).sort();
    // Membership steps lend members out of the configuration; the heal must have brought all back.
    const misconfigured = st.flatMap((s, i) =>
      s === null || (sameIds(s.conf?.voters ?? [], ids) && (s.conf?.learners.length ?? 0) === 0)
        ? []
        : [
            `${c.members[i]!.id} has voters ${s.conf?.voters.join(',') || '?'}${s.conf?.learners.length ? `, learners ${s.conf.learners.join(',')}` : ''}`,
          ],
    );
    const applied = new Set(members.map((m) => m.appliedIndex));
    const hashes = new Set(members.map((m) => m.stateHash));
    const leaders = new Set(st.map((s) => s?.leader ?? null));
    let detail: string;
    if (silent.length > 0) detail = `${silent.join(', ')} not answering`;
    else if (hashes.has(null)) detail = 'a member reports no stateHash (old build?)';
    else if (misconfigured.length > 0)
      detail = `not every member is a voter again: ${misconfigured.join('; ')}`;
    else if (leaders.size !== 1 || leaders.has(null)) detail = 'members do not agree on a leader';
    else if (applied.size !== 1 || hashes.size !== 1) {
      detail = `applied/hash differ: ${members.map((m) => `${m.id}=${m.appliedIndex}/${m.stateHash}`).join(' ')}`;
    } else {
      return {
        ok: true,
        members,
        detail: `all voters, at applied index ${[...applied][0]} with state hash ${[...hashes][0]}`,
      };
    }
    snapshot = { ok: false, members, detail };
    await sleep(100);
  }
  return snapshot;
}

function sameIds(a: readonly string[], sorted: readonly string[]): boolean {
  const x = [...a].sort();
  return x.length === sorted.length && x.every((v, i) => v === sorted[i]);
}

/** Leases of the lease clients: short, so that faults make them expire or nearly. */
const LEASE_TTL_SECONDS = 2;

/**
 * How long past its deadline a let-go lease's key may live once a leader is stable: an election
 * timeout at its longest (twice the minimum; keel node's default minimum is 150 ms) plus 1 s for the
 * leader's timer, the delete's commit and the client's polling.
 */
function leaseBoundMs(memberArgs: readonly string[]): number {
  const at = memberArgs.indexOf('--election-timeout');
  const min = at >= 0 ? Number(memberArgs[at + 1]) : 150;
  return 2 * min + 1000;
}
