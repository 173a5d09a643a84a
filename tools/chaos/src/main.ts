import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileMkdir } from '@keel/ops';
import { parseDuration as parseDurationOption } from '@keel/ops/duration';
import { htmlTimeline } from './html.js';
import { netnsUnavailable } from './netns.js';
import { jsonReport, textReport, verdictLine } from './report.js';
import { type ChaosOptions, DEFAULT_CHAOS, runChaos } from './run.js';
import { ALL_FAULTS, type FaultFamily } from './schedule.js';

export const ChaosExit = { Ok: 0, Fail: 1, Usage: 2, Unavailable: 3 } as const;

export interface ChaosIo {
  /** The report and the verdict line. */
  readonly out: (text: string) => void;
  /** Progress and errors. */
  readonly err: (text: string) => void;
}

export const CHAOS_USAGE = `Usage: keel chaos [options]

Starts a real cluster, runs concurrent clients against it while a seeded nemesis injects faults,
heals it, and judges what the clients saw: linearizable per key, no acknowledged write lost, the
exactly-once counter within [acknowledged, acknowledged + indeterminate] increments, members
converged (all voters again, same applied index and state hash), writes served again.

Options:
  --nodes <3|5>          members (default 3)
  --duration <time>      how long faults are injected: 90s, 5m, 500ms (default 60s)
  --faults <list>        kill,pause,partition,torn-wal,power-loss,transfer,membership
                         (default: all). membership: remove a voter (the leader or a member)
                         through the leader's POST /members, leave its process and data running
                         for 1-6 s, re-add it under the same id and address as a learner,
                         promote it once caught up; one change at a time, never fewer than 3
                         voters (3 members: one out at a time); the heal makes every member a
                         voter again. (amnesia: outside the fault model, wipes a majority's
                         WAL; must FAIL)
  --seed <n>             fault schedule seed, 0..4294967295 (default: random, printed)
  --netns                each member in its own network namespace (root on Linux)
  --clients <n>          concurrent clients (default ${DEFAULT_CHAOS.clients})
  --keys <n>             registers besides the counter (default ${DEFAULT_CHAOS.keys})
  --lease-clients <n>    clients that grant 2 s leases, keep them alive, let them go; checked: no
                         lease expires while kept alive, none outlives its TTL by more than an
                         election timeout + 1 s once a leader is stable (default ${DEFAULT_CHAOS.leaseClients})
  --lock-clients <n>     clients that loop acquire -> 2-3 writes fenced by the lock's revision ->
                         release on one Lock (2 s TTL); checked: holders never overlap (default ${DEFAULT_CHAOS.lockClients})
  --txns <pct>           percent of register operations that are transactions over groups of up
                         to 3 registers, checked across keys (default ${DEFAULT_CHAOS.txnPercent}: none;
                         the checker searches a group's keys together, which costs more)
  --election-timeout <ms>  members' minimum election timeout (default: keel node's, 150 ms);
                         heartbeats at a third of it, ticks at a fifth (at most 10 ms)
  --snapshot-entries <n> members snapshot every n applied entries (default: keel node's, 10000);
                         small values make compaction and snapshot installs happen under faults
  --compact-keep <n>     entries members keep behind a snapshot (default: keel node's, 5000)
  --json <file>          the run as JSON (options, schedule, faults, verdict, full history)
  --html <file>          a self-contained HTML timeline of operations and faults
  --keep <dir>           keep the members' data dirs and logs in <dir>
  -h, --help             this help

The last line of output is 'chaos: <ops> ops, <violations> violations, <lost> lost writes,
verdict <ok|FAIL>'. Exit codes: 0 ok, 1 FAIL or the run broke, 2 usage error, 3 --netns unavailable.`;

const FLAGS = {
  nodes: { type: 'string' },
  duration: { type: 'string' },
  faults: { type: 'string' },
  seed: { type: 'string' },
  netns: { type: 'boolean' },
  clients: { type: 'string' },
  keys: { type: 'string' },
  txns: { type: 'string' },
  'lease-clients': { type: 'string' },
  'lock-clients': { type: 'string' },
  'election-timeout': { type: 'string' },
  'snapshot-entries': { type: 'string' },
  'compact-keep': { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
  keep: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

/** `90s`, `5m`, `1m30s`, `500ms`, `2h`, or a bare number of seconds (the syntax of @keel/ops). */
export function parseDuration(text: string): number {
  const r = parseDurationOption(text, '--duration', { minMs: 1000, maxMs: 24 * 3_600_000 });
  if (!r.ok) throw new UsageError(r.message);
  return Math.round(r.ms);
}

export function parseFaults(text: string): FaultFamily[] {
  const known: readonly string[] = [...ALL_FAULTS, 'amnesia'];
  const items = text.split(',').map((s) => s.trim());
  for (const f of items) {
    if (!known.includes(f)) throw new UsageError(`unknown fault '${f}'; choose from ${ALL_FAULTS.join(',')}`);
  }
  return [...new Set(items)] as FaultFamily[];
}

/** `keel node` timing flags for a minimum election timeout of `text` ms (none: the node's defaults). */
function electionArgs(text: string | undefined): string[] {
  if (text === undefined) return [];
  const t = int(text, 'election-timeout', 150, 10, 60_000);
  const tick = Math.max(1, Math.min(10, Math.floor(t / 5)));
  return [
    '--election-timeout',
    String(t),
    '--heartbeat-interval',
    String(Math.max(tick, Math.floor(t / 3))),
    '--tick',
    String(tick),
  ];
}

/** `keel node`'s own `--<flag> <n>`, checked here so a mistake is a usage error before anything starts. */
function passThrough(flag: string, text: string | undefined, min: number, max: number): string[] {
  return text === undefined ? [] : [`--${flag}`, String(int(text, flag, 0, min, max))];
}

function int(v: string | undefined, flag: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, not '${v}'`);
  }
  return n;
}

/** Parses `keel chaos` flags into run options (throws UsageError with one line for the user). */
export function parseChaosArgs(
  argv: readonly string[],
): (ChaosOptions & { json?: string; html?: string }) | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: false, strict: true });
    values = parsed.values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify.*$/s, ''));
  }
  if (values.help === true) return 'help';
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const nodes = int(str('nodes'), 'nodes', DEFAULT_CHAOS.nodes, 3, 5);
  if (nodes === 4) throw new UsageError('--nodes must be 3 or 5, not 4');
  const durationMs =
    str('duration') === undefined ? DEFAULT_CHAOS.durationMs : parseDuration(str('duration')!);
  const o: ChaosOptions & { json?: string; html?: string } = {
    ...DEFAULT_CHAOS,
    nodes,
    faults: str('faults') === undefined ? [...ALL_FAULTS] : parseFaults(str('faults')!),
    durationMs,
    // Longer runs give longer histories: the checker's wall-clock budget grows with the run.
    checkBudgetMs: Math.max(DEFAULT_CHAOS.checkBudgetMs, durationMs),
    seed: int(str('seed'), 'seed', randomInt(0, 2 ** 32 - 1), 0, 2 ** 32 - 1),
    netns: values.netns === true,
    clients: int(str('clients'), 'clients', DEFAULT_CHAOS.clients, 1, 256),
    keys: int(str('keys'), 'keys', DEFAULT_CHAOS.keys, 1, 1000),
    txnPercent: int(str('txns'), 'txns', DEFAULT_CHAOS.txnPercent, 0, 100),
    leaseClients: int(str('lease-clients'), 'lease-clients', DEFAULT_CHAOS.leaseClients, 0, 64),
    lockClients: int(str('lock-clients'), 'lock-clients', DEFAULT_CHAOS.lockClients, 0, 64),
    memberArgs: [
      ...electionArgs(str('election-timeout')),
      ...passThrough('snapshot-entries', str('snapshot-entries'), 1, 1_000_000_000),
      ...passThrough('compact-keep', str('compact-keep'), 0, 1_000_000_000),
    ],
    ...(str('json') === undefined ? {} : { json: str('json')! }),
    ...(str('html') === undefined ? {} : { html: str('html')! }),
    ...(str('keep') === undefined ? {} : { keepDir: resolve(str('keep')!) }),
  };
  return o;
}

/** Runs `keel chaos <argv>` and resolves with the exit code. The `keel chaos` front end calls this. */
export async function runChaosCli(argv: readonly string[], io: ChaosIo): Promise<number> {
  let o: ReturnType<typeof parseChaosArgs>;
  try {
    o = parseChaosArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`keel chaos: ${err.message}\n\n${CHAOS_USAGE}\n`);
      return ChaosExit.Usage;
    }
    throw err;
  }
  if (o === 'help') {
    io.out(`${CHAOS_USAGE}\n`);
    return ChaosExit.Ok;
  }
  if (o.netns) {
    const why = netnsUnavailable();
    if (why !== null) {
      io.err(`keel chaos: ${why}; run without --netns to use proxied links instead\n`);
      return ChaosExit.Unavailable;
    }
  }
  io.err(`keel chaos: seed ${o.seed} (reproduce the fault schedule with --seed ${o.seed})\n`);
  let run: Awaited<ReturnType<typeof runChaos>>;
  try {
    run = await runChaos(o, { line: (t) => io.err(`keel chaos: ${t}\n`) });
  } catch (err) {
    io.err(`keel chaos: the run broke: ${(err as Error).message} (seed ${o.seed})\n`);
    return ChaosExit.Fail;
  }
  io.out(textReport(run));
  try {
    if (o.json !== undefined) {
      writeFileMkdir(resolve(o.json), jsonReport(run, ['keel', 'chaos', ...argv]));
      io.err(`keel chaos: wrote ${o.json}\n`);
    }
    if (o.html !== undefined) {
      writeFileMkdir(resolve(o.html), htmlTimeline(run));
      io.err(`keel chaos: wrote ${o.html}\n`);
    }
  } catch (err) {
    io.err(`keel chaos: cannot write the report: ${(err as Error).message}\n`);
  }
  io.out(`${verdictLine(run)}\n`);
  return run.verdict.verdict === 'ok' ? ChaosExit.Ok : ChaosExit.Fail;
}
