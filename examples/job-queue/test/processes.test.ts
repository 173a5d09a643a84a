import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  addressList,
  agreedLeader,
  fetchStatus,
  freePorts,
  killPid,
  type LaunchedProcess,
  LOOPBACK,
  launchMember,
  waitFor,
} from '@keel/ops';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientAddress,
  JobQueueClient,
  OutcomeUnknownError,
  type QueueView,
  RemoteJobQueue,
} from '../src/index.js';

// Three job-queue members as real OS processes (src/member.ts under tsx, as the README runs it),
// a producer and a worker over the client ports, the leader SIGKILLed mid-load and restarted.

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MEMBER = join(ROOT, 'src', 'member.ts');
const ids = ['a', 'b', 'c'];
const JOBS = 200;
const KILL_AT = 70;
const RESTART_AT = 140;
const LEASE_MS = 2000;
/**
 * The members' ticker period. Each tick changes the state (`now`), so members agree only between
 * a tick's commit on the leader and its apply on the followers; a slow period leaves long windows
 * for the final comparison even when a busy machine delays replication.
 */
const TICK_MS = 1000;
/** Every wait is bounded; generous, because the machine is shared and two cores run tsx for three members. */
const WAIT_MS = 60_000;

let dir = '';
let peers = '';
let clients = '';
const http = new Map<string, string>();
const running = new Map<string, LaunchedProcess>();
const allStarted: LaunchedProcess[] = [];
let clientAddresses: ClientAddress[] = [];
let failed = false;

function start(id: string): LaunchedProcess {
  const p = launchMember({
    id,
    command: [
      process.execPath,
      '--conditions=source',
      '--import',
      'tsx',
      MEMBER,
      ...['--id', id, '--data-dir', join(dir, id), '--peers', peers, '--clients', clients],
      ...['--http', http.get(id)!, '--tick-ms', String(TICK_MS)],
    ],
    cwd: ROOT,
    env: { ...process.env, KEEL_LOG_LEVEL: process.env.KEEL_TEST_LOG_LEVEL ?? 'warn' },
    output: { logFile: join(dir, `${id}.log`), banner: `--- start ${id}` },
  });
  running.set(id, p);
  allStarted.push(p);
  return p;
}

async function statuses() {
  return Promise.all(ids.filter((id) => running.has(id)).map((id) => fetchStatus(http.get(id)!, 1000)));
}

/** The leader every running member names (bounded wait). */
async function leader(): Promise<string> {
  return waitFor(
    'a leader every running member names',
    async () => agreedLeader(await statuses())?.leader,
    WAIT_MS,
    50,
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-jobq-procs-'));
  const ports = await freePorts(ids.length * 3);
  peers = addressList(ids, (_id, i) => `${LOOPBACK}:${ports[i]}`);
  clients = addressList(ids, (_id, i) => `${LOOPBACK}:${ports[3 + i]}`);
  clientAddresses = ids.map((id, i) => ({ id, host: LOOPBACK, port: ports[3 + i]! }));
  for (const [i, id] of ids.entries()) http.set(id, `${LOOPBACK}:${ports[6 + i]}`);
  for (const id of ids) start(id);
  await leader();
});

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') failed = true;
});

afterAll(async () => {
  for (const p of allStarted) killPid(p.pid, 'SIGKILL');
  await Promise.all(allStarted.map((p) => p.exited));
  // Kept when a test failed: the members' logs are there.
  if (dir !== '' && !failed) await rm(dir, { recursive: true, force: true });
  else if (failed) console.error(`member logs kept in ${dir}`);
});

describe('three member processes, the leader SIGKILLed mid-load', () => {
  it(
    'with sessions, runs every enqueue exactly once, keeps every acked job done, and ends with identical members',
    async () => {
      const producerQueue = new RemoteJobQueue(clientAddresses, { deadlineMs: WAIT_MS });
      const workerQueue = new RemoteJobQueue(clientAddresses, { deadlineMs: WAIT_MS });
      // Both in a session: a write whose outcome is unknown (the leader died holding it) is resent
      // with the same sequence number until its result comes back, and the queue runs it once.
      const producer = new JobQueueClient(producerQueue.propose, {
        worker: 'producer',
        resendForMs: WAIT_MS,
      });
      const worker = new JobQueueClient(workerQueue.propose, {
        worker: 'w1',
        leaseMs: LEASE_MS,
        resendForMs: WAIT_MS,
      });
      await producer.openSession();
      await worker.openSession();
      const enqueued: number[] = [];
      const acked = new Map<number, number>();
      const unknown = { enqueue: 0, claim: 0, ack: 0 };
      let killed: string | null = null;
      let producing = true;
      const loadDeadline = performance.now() + 4 * WAIT_MS;

      const produce = async (): Promise<void> => {
        try {
          for (let i = 1; i <= JOBS && performance.now() < loadDeadline; i++) {
            if (i === KILL_AT) {
              killed = await leader();
              const p = running.get(killed)!;
              running.delete(killed);
              killPid(p.pid, 'SIGKILL');
              await p.exited;
            }
            if (i === RESTART_AT && killed !== null) start(killed);
            try {
              enqueued.push(await producer.enqueue(new TextEncoder().encode(`job-${i}`)));
            } catch (err) {
              if (!(err instanceof OutcomeUnknownError)) throw err;
              unknown.enqueue++; // resent for WAIT_MS without an answer: asserted below to never happen
            }
          }
        } finally {
          producing = false;
        }
      };

      /** Claims and acks until the producer is done and the queue is empty; bounded in count and time. */
      const work = async (): Promise<void> => {
        for (let n = 0; n < 20 * JOBS && performance.now() < loadDeadline; n++) {
          let claimed: Awaited<ReturnType<JobQueueClient['claim']>>;
          try {
            claimed = await worker.claim();
          } catch (err) {
            if (!(err instanceof OutcomeUnknownError)) throw err;
            unknown.claim++; // a lease nobody holds: it lapses after LEASE_MS and the job comes back
            continue;
          }
          if (claimed === null) {
            if (!producing) {
              const v = await workerQueue.view(await leader(), 'linearizable').catch(() => null);
              if (v !== null && v.queued.length === 0 && v.leased.length === 0) return;
            }
            await new Promise((r) => setTimeout(r, 25)); // idle worker: poll again
            continue;
          }
          try {
            if (await worker.ack(claimed.leaseId))
              acked.set(claimed.job.id, (acked.get(claimed.job.id) ?? 0) + 1);
          } catch (err) {
            if (!(err instanceof OutcomeUnknownError)) throw err;
            unknown.ack++;
          }
        }
      };

      try {
        await Promise.all([produce(), work()]);
        expect(killed).not.toBeNull();
        expect(running.size).toBe(3);

        // Every member (the restarted one included) reaches the same state: compare their own
        // (stale) views until they agree — the leader's ticker keeps moving `now` (TICK_MS), so retry.
        let last = '';
        const views = await waitFor(
          'every member to hold the same queue state',
          async () => {
            const tries = await Promise.all(
              ids.map((id) => workerQueue.view(id, 'stale').catch((err: unknown) => (err as Error).message)),
            );
            last = JSON.stringify(
              tries.map((v) =>
                typeof v === 'string'
                  ? v
                  : { ...v, queued: v.queued.slice(0, 5), leased: v.leased.slice(0, 5) },
              ),
            );
            const vs = tries.filter((v): v is QueueView => typeof v !== 'string');
            if (vs.length !== ids.length) return undefined;
            const same = vs.every((v) => JSON.stringify(v) === JSON.stringify(vs[0]));
            return same && vs[0]!.queued.length === 0 && vs[0]!.leased.length === 0 ? vs : undefined;
          },
          WAIT_MS,
          50,
        ).catch((err: unknown) => {
          throw new Error(`${(err as Error).message}; last views ${last}; killed ${killed}`);
        });
        const final: QueueView = views[0]!;
        const issued = final.nextJobId - 1;

        // Exactly once: every enqueue got its answer, in order, and the queue issued exactly JOBS
        // jobs (a resent enqueue would be a second job without the session); all are done.
        expect(unknown).toEqual({ enqueue: 0, claim: 0, ack: 0 });
        expect(enqueued).toEqual(Array.from({ length: JOBS }, (_, i) => i + 1));
        expect(issued).toBe(JOBS);
        expect(final.done).toBe(JOBS);
        // Every job was acked once, as this worker saw it: an ack is final, and no answer was lost.
        expect(acked.size).toBe(JOBS);
        for (const times of acked.values()) expect(times).toBe(1);
      } finally {
        await producerQueue.close();
        await workerQueue.close();
      }
    },
    6 * WAIT_MS,
  );

  it(
    "moves the log's clock while no client writes: the leader's ticker",
    async () => {
      const q = new RemoteJobQueue(clientAddresses);
      try {
        const before = await q.view(await leader(), 'stale');
        await waitFor(
          'a tick to move the clock',
          async () => ((await q.view(await leader(), 'stale')).now > before.now ? true : undefined),
          WAIT_MS,
          100,
        );
      } finally {
        await q.close();
      }
    },
    2 * WAIT_MS,
  );

  it(
    "runs the README's remote.ts against the members",
    async () => {
      const { stdout, stderr } = await run(
        process.execPath,
        ['--conditions=source', '--import', 'tsx', join(ROOT, 'remote.ts'), '--clients', clients],
        { cwd: ROOT, timeout: WAIT_MS },
      );
      expect(stderr).toBe('');
      for (let i = 1; i <= 10; i++) expect(stdout).toContain(`email #${i}`);
      expect(stdout).toMatch(/\d+ done, 0 queued, 0 leased \(leader [abc]\)/);
    },
    2 * WAIT_MS,
  );

  it(
    'closes each member gracefully on SIGTERM (exit code 0)',
    async () => {
      expect(running.size).toBe(3);
      for (const [id, p] of running) {
        killPid(p.pid, 'SIGTERM');
        const exit = await Promise.race([
          p.exited,
          new Promise<null>((r) => setTimeout(() => r(null), 15_000)),
        ]);
        expect(exit, `member ${id} after SIGTERM`).toEqual({ code: 0, signal: null });
      }
    },
    2 * WAIT_MS,
  );
});
