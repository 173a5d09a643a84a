#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeFileMkdir } from '@keel/ops';
import { endpointsFromClusterFile, endpointsFromList } from './cluster.js';
import { comparisonTable } from './compare.js';
import { durationMs } from './duration.js';
import { DEFAULT_ELECTION, FAST_ELECTION_TIMEOUT_MS, type FaultMode, runElection } from './election.js';
import { ETCD_MISSING, etcdVersion } from './etcd.js';
import { DEFAULT_FAILOVER, FailoverScenario, runFailover } from './failover.js';
import { type BenchReport, htmlReport, jsonReport, parseJsonReport, textReport } from './report.js';
import { DEFAULT_SNAPSHOT_BENCH, runSnapshotBench } from './snapshot.js';
import {
  DEFAULT_THROUGHPUT,
  type LoadMode,
  type Progress,
  runThroughput,
  type Target,
  type ThroughputReport,
} from './throughput.js';
import { DEFAULT_WATCH_BENCH, runWatchBench } from './watch.js';

export const ExitCode = { Ok: 0, Failed: 1, Usage: 2 } as const;

export interface BenchIo {
  /** Reports and tables. */
  readonly out: (text: string) => void;
  /** Progress and errors. */
  readonly err: (text: string) => void;
  /** Whether `err` is a terminal (a redrawn progress bar) or not (progress lines). */
  readonly isTTY: boolean;
}

export const USAGE = `Usage: keel bench <write|read|mixed|txn|watch|election|snapshot|failover> [options]
       keel bench report <report.json> [--html <file>] [--compare <old.json>]
                                                (print a saved report, render it again)

Load (write | read | mixed | txn; txn: each operation is one transaction, if key A exists
(version > 0) put A and the next key, else get A; etcd: Txn if/then/else):
  --nodes <n>               start a fresh cluster of n members (3, 5 or 7; default 3), stopped afterwards
  --cluster-file <path>     or: use the running cluster of a 'keel cluster' file (cluster.json)
  --endpoints <list>        or: host:clientPort/host:httpPort,... of a running cluster
  --system <keel|etcd>      etcd: start an etcd cluster of --nodes members instead, for the
                            comparison (needs an 'etcd' binary: apt-get install etcd-server,
                            or KEEL_BENCH_ETCD=<path>); default keel
  --concurrency <list>      outstanding requests per step (default 1,16,64,256)
  --value-size <list>       value sizes in bytes (default 16,256,4096; txn: 256)
  --warmup <duration>       warm-up per step, not measured (default 1s; bare number: seconds)
  --duration <duration>     measured time per step (default 5s; bare number: seconds)
  --workers <n>             client processes (default 2)
  --read-ratio <0..1>       mixed: fraction of reads (default 0.9)
  --stale                   reads from local state of every member instead of linearizable reads
  --keyspace <n>            keys written and read (default 1000)
  --timeout <duration>      reply timeout per attempt (default 2s; bare number: milliseconds)
  --cpu-prof <dir>          write a V8 CPU profile of every member the bench starts into <dir>
                            (open in Chrome DevTools or speedscope; written when members stop)

Watch (watch fan-out: N watchers on one prefix, writers putting keys under it; --nodes, --system,
--cluster-file, --endpoints, --value-size (one), --warmup, --duration, --workers, --timeout as above):
  --watchers <list>         watchers per step (default 1,100,1000), spread over the --workers
                            client processes and round-robin over the members
  --writers <n>             concurrent writers, one put outstanding each, in one more process
                            (default 4)
  --rate <puts/s>           puts per second over all writers (default 200; 0 = flat out)
  --watch-on <all|followers>
                            which members serve the watchers: every member round-robin
                            (default), or the followers only (the leader serves none)
                            Reports events/s delivered, delivery latency from the put's ack
                            (commit proxy) to each watcher, events lost/duplicated/reordered
                            (exit 1 unless all 0) and member CPU

Election:
  --nodes <n>               cluster size (default 3)
  --trials <n>              trials per fault mode and setting (default 50)
  --mode <kill|stop|both>   SIGKILL the leader, SIGSTOP it, or both (default both)
  --election-timeout <list> minimum election timeouts T (150, 300ms, 1s; bare number: ms), members
                            draw from [T, 2T) (default 150ms)
  --fast                    also measure the fast setting (T = ${FAST_ELECTION_TIMEOUT_MS} ms, 1 ms tick)
  --poll <duration>         pause between /status polls of a member during a trial (default 2ms;
                            bare number: milliseconds)
  --load                    also run every setting beside scripts/load.mjs (CPU spinners on
                            every core + an fdatasync loop, bounded), reporting both
  --dir <path>              keep the members' data dirs and logs (<path>/T<ms>/<id>/member.log)

Snapshot (snapshot cost and benefit on a cluster it starts, automatic snapshots off):
  --nodes <n>               cluster size (default 3)
  --keys <n>                keys written first, one entry each (default 1000000)
  --value-size <n>          bytes per value (default 16)
  --duration <duration>     each write-throughput window, without and with snapshots (default 5s)
  --concurrency <n>         outstanding writes in those windows (default 64)
  --compact-keep <n>        entries the WAL keeps behind a snapshot (default 1000)

Failover (per-put latency of 8 writing clients around a failover, fresh cluster per trial):
  --scenario <s>            stop-leader (SIGTERM the leader of 3) or kill-two (SIGKILL the leader
                            and a follower of 5)
  --trials <n>              trials (default ${DEFAULT_FAILOVER.trials})

Output:
  --json <file>             the report as JSON (schema in tools/bench/README.md)
  --compare <old.json>      load modes and report: per step, new/old ratios of throughput, p50 and
                            members' CPU per operation, changes beyond ±20 % flagged
  --html <file>             a self-contained HTML report with charts
  -h, --help                this help

Exit codes: 0 measured, 1 the run failed or measured nothing, 2 usage error.`;

const FLAGS = {
  nodes: { type: 'string' },
  scenario: { type: 'string' },
  system: { type: 'string' },
  'cpu-prof': { type: 'string' },
  keys: { type: 'string' },
  'compact-keep': { type: 'string' },
  'cluster-file': { type: 'string' },
  endpoints: { type: 'string' },
  concurrency: { type: 'string' },
  'value-size': { type: 'string' },
  warmup: { type: 'string' },
  duration: { type: 'string' },
  workers: { type: 'string' },
  'read-ratio': { type: 'string' },
  stale: { type: 'boolean' },
  keyspace: { type: 'string' },
  timeout: { type: 'string' },
  trials: { type: 'string' },
  mode: { type: 'string' },
  'election-timeout': { type: 'string' },
  fast: { type: 'boolean' },
  poll: { type: 'string' },
  load: { type: 'boolean' },
  dir: { type: 'string' },
  json: { type: 'string' },
  compare: { type: 'string' },
  html: { type: 'string' },
  watchers: { type: 'string' },
  writers: { type: 'string' },
  rate: { type: 'string' },
  'watch-on': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

/** `txn` sweeps concurrency at one value size unless told otherwise. */
const TXN_VALUE_SIZE = 256;

type Values = Record<string, string | boolean | undefined>;

function num(v: Values, flag: string, fallback: number, min: number, max: number, integer = true): number {
  const raw = v[flag];
  if (raw === undefined) return fallback;
  const x = Number(raw);
  if (
    typeof raw !== 'string' ||
    raw.trim() === '' ||
    !Number.isFinite(x) ||
    (integer && !Number.isInteger(x)) ||
    x < min ||
    x > max
  ) {
    throw new UsageError(
      `--${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not '${String(raw)}'`,
    );
  }
  return x;
}

/** A duration flag (`500ms`, `5s`, `2m`; a bare number in `bareUnitMs`) in milliseconds. */
function dur(
  v: Values,
  flag: string,
  fallbackMs: number,
  bareUnitMs: number,
  minMs: number,
  maxMs: number,
): number {
  const raw = v[flag];
  if (raw === undefined) return fallbackMs;
  const ms = typeof raw === 'string' ? durationMs(raw, bareUnitMs) : null;
  if (ms === null || ms < minMs || ms > maxMs) {
    const bare = bareUnitMs === 1000 ? 'seconds' : 'milliseconds';
    throw new UsageError(
      `--${flag} must be a duration from ${minMs}ms to ${maxMs}ms like 500ms, 5s or 2m (a bare number is ${bare}), not '${String(raw)}'`,
    );
  }
  return ms;
}

/** A comma-separated list of whole-millisecond durations (`150,300ms,1s`; a bare number is ms). */
function durList(
  v: Values,
  flag: string,
  fallbackMs: readonly number[],
  minMs: number,
  maxMs: number,
): number[] {
  const raw = v[flag];
  if (raw === undefined) return [...fallbackMs];
  const out = String(raw)
    .split(',')
    .map((s) => durationMs(s, 1));
  if (out.some((x) => x === null || !Number.isInteger(x) || x < minMs || x > maxMs)) {
    throw new UsageError(
      `--${flag} must be a comma-separated list of durations from ${minMs}ms to ${maxMs}ms (150, 300ms, 1s; a bare number is milliseconds), not '${String(raw)}'`,
    );
  }
  return out as number[];
}

function list(v: Values, flag: string, fallback: readonly number[], min: number, max: number): number[] {
  const raw = v[flag];
  if (raw === undefined) return [...fallback];
  const items = String(raw).split(',');
  const out = items.map((s) => Number(s.trim()));
  if (
    items.length === 0 ||
    out.some((x, i) => items[i]!.trim() === '' || !Number.isInteger(x) || x < min || x > max)
  ) {
    throw new UsageError(
      `--${flag} must be a comma-separated list of integers from ${min} to ${max}, not '${String(raw)}'`,
    );
  }
  return out;
}

function nodes(v: Values): number {
  const n = num(v, 'nodes', 3, 1, 9);
  if (n % 2 === 0) throw new UsageError(`--nodes must be odd (3, 5 or 7), not ${n}`);
  return n;
}

function progressFor(io: BenchIo): Progress {
  let lastLine = '';
  let lastPct = -1;
  let drawn = false;
  const clear = (): void => {
    if (drawn) io.err('\r\x1b[2K');
    drawn = false;
  };
  return {
    phase(text) {
      clear();
      io.err(`keel-bench: ${text}\n`);
    },
    update(fraction, label, opsPerSec) {
      const pct = Math.floor(Math.min(1, Math.max(0, fraction)) * 100);
      const rate = opsPerSec > 0 ? `  ${Math.round(opsPerSec)} ops/s` : '';
      if (io.isTTY) {
        const width = 30;
        const full = Math.round((pct / 100) * width);
        io.err(
          `\r\x1b[2K[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(pct).padStart(3)}%  ${label}${rate}`,
        );
        drawn = true;
      } else if (label !== lastLine || pct >= lastPct + 10) {
        io.err(`keel-bench: ${String(pct).padStart(3)}% ${label}${rate}\n`);
        lastLine = label;
        lastPct = pct;
      }
    },
    done() {
      clear();
    },
  };
}

function target(v: Values): Target {
  const system = v.system === undefined ? 'keel' : String(v.system);
  if (
    v['cpu-prof'] !== undefined &&
    (system !== 'keel' || v['cluster-file'] !== undefined || v.endpoints !== undefined)
  )
    throw new UsageError('--cpu-prof profiles the Keel members the bench starts: use it with --nodes only');
  if (system !== 'keel' && system !== 'etcd')
    throw new UsageError(`--system must be keel or etcd, not '${system}'`);
  if (system === 'etcd') {
    if (v['cluster-file'] !== undefined || v.endpoints !== undefined)
      throw new UsageError(
        '--system etcd starts its own etcd cluster: use --nodes, not --cluster-file or --endpoints',
      );
    if (etcdVersion() === null) throw new UsageError(ETCD_MISSING);
    return { kind: 'etcd', nodes: nodes(v) };
  }
  const sources = ['cluster-file', 'endpoints', 'nodes'].filter((f) => v[f] !== undefined);
  if (sources.length > 1) throw new UsageError(`give only one of --nodes, --cluster-file and --endpoints`);
  try {
    if (v['cluster-file'] !== undefined)
      return { kind: 'endpoints', endpoints: endpointsFromClusterFile(String(v['cluster-file'])) };
    if (v.endpoints !== undefined)
      return { kind: 'endpoints', endpoints: endpointsFromList(String(v.endpoints)) };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const prof = v['cpu-prof'];
  if (prof === undefined) return { kind: 'start', nodes: nodes(v) };
  const dir = resolve(String(prof));
  return { kind: 'start', nodes: nodes(v), nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] };
}

/** Runs `keel-bench <argv>`; resolves with the exit code. The `keel bench` front end calls this. */
export async function runBenchCli(argv: readonly string[], io: BenchIo): Promise<number> {
  let v: Values;
  let positionals: string[];
  try {
    const parsed = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: true, strict: true });
    v = parsed.values as Values;
    positionals = parsed.positionals;
  } catch (err) {
    io.err(`keel-bench: ${(err as Error).message.replace(/\. To specify.*$/s, '')}; see keel-bench --help\n`);
    return ExitCode.Usage;
  }
  if (v.help === true) {
    io.out(`${USAGE}\n`);
    return ExitCode.Ok;
  }
  const cmd = positionals[0];
  if (cmd === 'report') return rerender(positionals, v, io);
  if (cmd === 'failover') return failover(positionals, v, io);
  if (v.scenario !== undefined) {
    io.err('keel-bench: --scenario applies to failover only\n');
    return ExitCode.Usage;
  }
  let report: BenchReport;
  let older: ThroughputReport | null = null;
  try {
    if (
      positionals.length !== 1 ||
      cmd === undefined ||
      !['write', 'read', 'mixed', 'txn', 'watch', 'election', 'snapshot'].includes(cmd)
    ) {
      throw new UsageError(
        positionals.length === 0
          ? 'name a benchmark: write, read, mixed, txn, watch, election, snapshot or failover'
          : `unknown benchmark '${positionals.join(' ')}'; choose write, read, mixed, txn, watch, election, snapshot or failover`,
      );
    }
    if (v.compare !== undefined && (cmd === 'election' || cmd === 'snapshot' || cmd === 'watch'))
      throw new UsageError('--compare applies to write, read, mixed, txn and report only');
    older = typeof v.compare === 'string' ? loadOlder(v.compare) : null;
    const progress = progressFor(io);
    if (cmd !== 'snapshot') {
      for (const f of ['keys', 'compact-keep']) {
        if (v[f] !== undefined) throw new UsageError(`--${f} applies to snapshot only`);
      }
    }
    if (cmd !== 'watch') {
      for (const f of ['watchers', 'writers', 'rate', 'watch-on']) {
        if (v[f] !== undefined) throw new UsageError(`--${f} applies to watch only`);
      }
    }
    if (cmd === 'watch') {
      for (const f of [
        'concurrency',
        'read-ratio',
        'stale',
        'keyspace',
        'trials',
        'mode',
        'election-timeout',
        'fast',
        'poll',
        'load',
        'dir',
      ]) {
        if (v[f] !== undefined) throw new UsageError(`--${f} does not apply to watch`);
      }
      const d = DEFAULT_WATCH_BENCH;
      const watchOn = v['watch-on'] === undefined ? d.watchOn : String(v['watch-on']);
      if (watchOn !== 'all' && watchOn !== 'followers')
        throw new UsageError(`--watch-on must be all or followers, not '${watchOn}'`);
      const sizes = list(v, 'value-size', [d.valueSize], 0, 1 << 20);
      if (sizes.length !== 1) throw new UsageError('--value-size takes one value for watch');
      report = await runWatchBench(
        {
          target: target(v),
          watchers: list(v, 'watchers', d.watchers, 1, 100_000),
          writers: num(v, 'writers', d.writers, 1, 1000),
          rate: num(v, 'rate', d.rate, 0, 1_000_000),
          valueSize: sizes[0]!,
          warmupMs: dur(v, 'warmup', d.warmupMs, 1000, 0, 3_600_000),
          durationMs: dur(v, 'duration', d.durationMs, 1000, 100, 3_600_000),
          workers: num(v, 'workers', d.workers, 1, 64),
          timeoutMs: dur(v, 'timeout', d.timeoutMs, 1, 1, 600_000),
          drainMs: d.drainMs,
          watchOn,
        },
        progress,
      );
    } else if (cmd === 'snapshot') {
      for (const f of [
        'cluster-file',
        'endpoints',
        'system',
        'cpu-prof',
        'warmup',
        'workers',
        'read-ratio',
        'stale',
        'keyspace',
        'timeout',
        'trials',
        'mode',
        'election-timeout',
        'fast',
        'poll',
        'load',
        'dir',
      ]) {
        if (v[f] !== undefined) throw new UsageError(`--${f} does not apply to snapshot`);
      }
      const d = DEFAULT_SNAPSHOT_BENCH;
      const single = (flag: string, dflt: number, min: number, max: number): number => {
        const xs = list(v, flag, [dflt], min, max);
        if (xs.length !== 1) throw new UsageError(`--${flag} takes one value for snapshot`);
        return xs[0]!;
      };
      report = await runSnapshotBench(
        {
          nodes: nodes(v),
          keys: num(v, 'keys', d.keys, 1, 100_000_000),
          valueSize: single('value-size', d.valueSize, 0, 1 << 20),
          writeMs: dur(v, 'duration', d.writeMs, 1000, 100, 3_600_000),
          concurrency: single('concurrency', d.concurrency, 1, 100_000),
          compactKeep: num(v, 'compact-keep', d.compactKeep, 0, 100_000_000),
        },
        progress,
      );
    } else if (cmd === 'election') {
      for (const f of [
        'cluster-file',
        'endpoints',
        'concurrency',
        'value-size',
        'warmup',
        'duration',
        'workers',
        'read-ratio',
        'stale',
        'keyspace',
        'timeout',
      ]) {
        if (v[f] !== undefined)
          throw new UsageError(`--${f} does not apply to election (it starts its own cluster)`);
      }
      const mode = (v.mode as string | undefined) ?? 'both';
      if (!['kill', 'stop', 'both'].includes(mode))
        throw new UsageError(`--mode must be kill, stop or both, not '${mode}'`);
      const timeouts = durList(v, 'election-timeout', DEFAULT_ELECTION.electionTimeoutsMs, 2, 60_000);
      if (v.fast === true && !timeouts.includes(FAST_ELECTION_TIMEOUT_MS))
        timeouts.push(FAST_ELECTION_TIMEOUT_MS);
      report = await runElection(
        {
          nodes: nodes(v),
          trials: num(v, 'trials', DEFAULT_ELECTION.trials, 1, 10_000),
          modes: mode === 'both' ? ['kill', 'stop'] : [mode as FaultMode],
          electionTimeoutsMs: timeouts,
          pollMs: dur(v, 'poll', DEFAULT_ELECTION.pollMs, 1, 0, 1000),
          trialTimeoutMs: DEFAULT_ELECTION.trialTimeoutMs,
          load: v.load === true,
          ...(typeof v.dir === 'string' ? { dir: resolve(v.dir) } : {}),
        },
        progress,
      );
    } else {
      for (const f of ['trials', 'mode', 'election-timeout', 'fast', 'poll', 'load', 'dir']) {
        if (v[f] !== undefined) throw new UsageError(`--${f} applies to election only`);
      }
      if (cmd !== 'mixed' && v['read-ratio'] !== undefined)
        throw new UsageError('--read-ratio applies to mixed only');
      if ((cmd === 'write' || cmd === 'txn') && v.stale === true)
        throw new UsageError('--stale applies to read and mixed only');
      const d = DEFAULT_THROUGHPUT;
      report = await runThroughput(
        {
          mode: cmd as LoadMode,
          target: target(v),
          concurrency: list(v, 'concurrency', d.concurrency, 1, 100_000),
          valueSizes: list(v, 'value-size', cmd === 'txn' ? [TXN_VALUE_SIZE] : d.valueSizes, 0, 1 << 20),
          warmupMs: dur(v, 'warmup', d.warmupMs, 1000, 0, 3_600_000),
          durationMs: dur(v, 'duration', d.durationMs, 1000, 100, 3_600_000),
          workers: num(v, 'workers', d.workers, 1, 64),
          readRatio: num(v, 'read-ratio', d.readRatio, 0, 1, false),
          stale: v.stale === true,
          keyspace: num(v, 'keyspace', d.keyspace, 1, 10_000_000),
          timeoutMs: dur(v, 'timeout', d.timeoutMs, 1, 1, 600_000),
        },
        progress,
      );
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`keel-bench: ${err.message}; see keel-bench --help\n`);
      return ExitCode.Usage;
    }
    io.err(`keel-bench ${cmd ?? ''}: ${(err as Error).message}\n`);
    return ExitCode.Failed;
  }
  const command = ['keel-bench', ...argv];
  io.out(textReport(report));
  if (older !== null && report.kind === 'throughput') io.out(`\n${comparisonTable(report, older)}`);
  try {
    if (typeof v.json === 'string') {
      writeFileMkdir(resolve(v.json), jsonReport(report, command));
      io.err(`keel-bench: wrote ${v.json}\n`);
    }
    if (typeof v.html === 'string') {
      writeFileMkdir(resolve(v.html), htmlReport(report, command));
      io.err(`keel-bench: wrote ${v.html}\n`);
    }
  } catch (err) {
    io.err(`keel-bench: cannot write the report: ${(err as Error).message}\n`);
    return ExitCode.Failed;
  }
  if (report.kind === 'watch') {
    const broken = report.steps.filter((s) => s.lost + s.duplicated + s.reordered > 0);
    for (const s of broken) {
      io.err(
        `keel-bench watch: step ${s.step} (${s.watchers} watchers): ${s.lost} events lost, ${s.duplicated} duplicated, ${s.reordered} reordered\n`,
      );
    }
    return broken.length > 0 || report.steps.some((s) => s.events === 0) ? ExitCode.Failed : ExitCode.Ok;
  }
  // A run where nothing succeeded measured nothing: say so in the exit code.
  const useless =
    report.kind === 'throughput'
      ? report.steps.some((s) => s.ops === 0)
      : report.kind === 'election'
        ? report.runs.some((r) => r.failures === r.trials.length)
        : report.results.writes_with_snapshots_per_sec === 0;
  return useless ? ExitCode.Failed : ExitCode.Ok;
}

/** `keel-bench report <file.json> [--html <file>]`: a saved report as a table, and its HTML again. */
async function failover(positionals: readonly string[], v: Values, io: BenchIo): Promise<number> {
  const scenario = String(v.scenario ?? '');
  const other = Object.keys(v).filter((k) => k !== 'scenario' && k !== 'trials' && v[k] !== undefined);
  if (positionals.length !== 1 || other.length > 0) {
    io.err(`keel-bench: failover takes --scenario and --trials only; see keel-bench --help\n`);
    return ExitCode.Usage;
  }
  if (scenario !== FailoverScenario.StopLeader && scenario !== FailoverScenario.KillTwo) {
    io.err(`keel-bench: --scenario must be stop-leader or kill-two\n`);
    return ExitCode.Usage;
  }
  let trials: number;
  try {
    trials = num(v, 'trials', DEFAULT_FAILOVER.trials, 1, 1000);
  } catch (err) {
    io.err(`keel-bench: ${(err as Error).message}\n`);
    return ExitCode.Usage;
  }
  try {
    const r = await runFailover({ ...DEFAULT_FAILOVER, scenario, trials }, (line) => io.err(`${line}\n`));
    io.out(`${r.summary}\n`);
    return r.trials.some((t) => t.errors > 0) ? ExitCode.Failed : ExitCode.Ok;
  } catch (err) {
    io.err(`keel-bench: failover failed: ${(err as Error).message}\n`);
    return ExitCode.Failed;
  }
}

function rerender(positionals: readonly string[], v: Values, io: BenchIo): number {
  const extra = Object.keys(v).filter((k) => v[k] !== undefined && k !== 'html' && k !== 'compare');
  const file = positionals[1];
  if (positionals.length !== 2 || file === undefined || extra.length > 0) {
    io.err(
      `keel-bench: report takes one JSON file and only --html and --compare${extra.length > 0 ? `, not --${extra[0]}` : ''}; see keel-bench --help\n`,
    );
    return ExitCode.Usage;
  }
  try {
    const { report, command } = parseJsonReport(readFileSync(file, 'utf8'));
    io.out(textReport(report));
    if (typeof v.compare === 'string') {
      if (report.kind !== 'throughput') throw new Error('--compare needs a write, read or mixed report');
      io.out(`\n${comparisonTable(report, loadOlder(v.compare))}`);
    }
    if (typeof v.html === 'string') {
      writeFileMkdir(resolve(v.html), htmlReport(report, command));
      io.err(`keel-bench: wrote ${v.html}\n`);
    }
    return ExitCode.Ok;
  } catch (err) {
    io.err(`keel-bench report: ${file}: ${(err as Error).message}\n`);
    return ExitCode.Failed;
  }
}

/** The older report of `--compare`: a throughput report, or a usage error naming the file. */
function loadOlder(file: string): ThroughputReport {
  let parsed: BenchReport;
  try {
    parsed = parseJsonReport(readFileSync(file, 'utf8')).report;
  } catch (err) {
    throw new UsageError(`--compare ${file}: ${(err as Error).message}`);
  }
  if (parsed.kind !== 'throughput')
    throw new UsageError(`--compare ${file}: not a write, read or mixed report`);
  return parsed;
}

function isMain(): boolean {
  const argv1 = process.argv[1];
  if (argv1 === undefined) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const io: BenchIo = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    isTTY: process.stderr.isTTY === true,
  };
  let stopping = false;
  const onSignal = (): void => {
    // The exit hook of cluster.ts kills every member and client process by PID.
    if (stopping) process.exit(130);
    stopping = true;
    io.err('\nkeel-bench: interrupted; stopping the processes it started\n');
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  runBenchCli(process.argv.slice(2), io).then(
    (code) => process.exit(code),
    (err: Error) => {
      io.err(`keel-bench: ${err.message}\n`);
      process.exit(1);
    },
  );
}
