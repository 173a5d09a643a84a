import { runSeed, type SimOptions } from '@keel/sim';
import { PLANTED_BUGS, parseSimArgs, type SimArgs, USAGE, UsageError } from './args.js';
import { runSeeds, type SeedOutcome } from './runner.js';

export const ExitCode = { Ok: 0, Violations: 1, Usage: 2, Internal: 3 } as const;

function simOptions(args: SimArgs): SimOptions {
  return {
    ...(args.nodes !== undefined ? { nodes: args.nodes } : {}),
    ...(args.faults !== undefined ? { faults: args.faults } : {}),
    ...(args.faultMs !== undefined ? { faultMs: args.faultMs } : {}),
    ...(args.bug !== undefined ? { bugs: PLANTED_BUGS[args.bug] } : {}),
    ...(args.reads !== undefined ? { reads: args.reads } : {}),
    ...(args.txns !== undefined ? { txns: args.txns / 100 } : {}),
  };
}

/** The command that replays one seed of this run with its trace. */
function replayCommand(args: SimArgs, seed: number): string {
  const parts = ['pnpm sim', `--seed ${seed}`];
  if (args.nodes !== undefined) parts.push(`--nodes ${args.nodes}`);
  if (args.faultsArg !== undefined) parts.push(`--faults ${args.faultsArg}`);
  if (args.faultMs !== undefined) parts.push(`--fault-ms ${args.faultMs}`);
  if (args.reads !== undefined) parts.push(`--reads ${args.reads}`);
  if (args.bug !== undefined) parts.push(`--bug ${args.bug}`);
  if (args.txns !== undefined) parts.push(`--txns ${args.txns}`);
  parts.push('--trace');
  return parts.join(' ');
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

function summary(seeds: number, violations: number): string {
  return `sim: ${seeds} seeds, ${violations} violations`;
}

function runOne(args: SimArgs, out: (line: string) => void): number {
  const r = runSeed(args.start, { ...simOptions(args), trace: args.trace });
  if (args.json) {
    out(JSON.stringify({ seed: r.seed, ok: r.ok, violations: r.violations, stats: r.stats }));
  } else {
    if (r.trace !== undefined) for (const line of r.trace) out(line);
    const s = r.stats;
    out(
      `seed ${r.seed}: ${r.ok ? 'ok' : 'FAIL'} — ${s.nodes} nodes, faults ${s.faults.join(',') || 'none'}, reads ${s.reads}; ` +
        `${s.virtualMs.toFixed(0)} virtual ms, ${s.events} events, ${s.leaders} leader terms, commit index ${s.commitIndex}; ` +
        `${s.crashes} crashes, ${s.pauses} pauses, ${s.partitions} partitions; transfers ${s.transfers.requested} requested, ` +
        `${s.transfers.attempted} begun, ${s.transfers.completed} completed; ` +
        `snapshots every ${s.snapshotEntries} entries: ${s.snapshots.taken} taken, ${s.snapshots.restored} restored; ` +
        `membership ${s.membership.requested} requested, ${s.membership.proposed} proposed, ${s.membership.applied} applied, ` +
        `${s.membership.retired} retired; messages ${s.messages.sent} sent, ` +
        `${s.messages.dropped} dropped, ${s.messages.duplicated} duplicated; ops ${s.ops.ok} ok, ${s.ops.fail} failed, ` +
        `${s.ops.unknown} unknown; linearizable: ${s.linearizable}; recovered in ${s.recoveryMs === null ? '-' : `${s.recoveryMs.toFixed(0)}ms`}`,
    );
    for (const v of r.violations) out(v);
  }
  out(summary(1, r.ok ? 0 : 1));
  return r.ok ? ExitCode.Ok : ExitCode.Violations;
}

async function runMany(
  args: SimArgs,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  let done = 0;
  let failing = 0;
  const startedAt = performance.now();
  let lastProgress = startedAt;
  const onOutcome = (o: SeedOutcome): void => {
    done++;
    if (!o.ok) {
      failing++;
      if (args.json) out(JSON.stringify({ seed: o.seed, nodes: o.nodes, violations: o.violations }));
      else
        out(
          `FAIL seed ${o.seed} (${o.nodes} nodes): ${firstLine(o.violations[0] ?? '')} — replay: ${replayCommand(args, o.seed)}`,
        );
    }
    const now = performance.now();
    if (now - lastProgress > 5000 && done < args.count) {
      lastProgress = now;
      const rate = done / ((now - startedAt) / 1000);
      const eta = (args.count - done) / rate;
      err(
        `sim: ${done}/${args.count} seeds, ${failing} violations, ${rate.toFixed(0)} seeds/s, ~${eta.toFixed(0)}s left`,
      );
    }
  };
  await runSeeds({
    start: args.start,
    count: args.count,
    sim: simOptions(args),
    ...(args.workers !== undefined ? { workers: args.workers } : {}),
    onOutcome,
  });
  if (args.json) out(JSON.stringify({ seeds: done, violations: failing }));
  (args.json ? err : out)(summary(done, failing));
  return failing > 0 ? ExitCode.Violations : ExitCode.Ok;
}

export async function main(argv: readonly string[]): Promise<number> {
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const err = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  let args: SimArgs;
  try {
    args = parseSimArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`sim: ${e.message} (see pnpm sim --help)`);
      return ExitCode.Usage;
    }
    throw e;
  }
  if (args.help) {
    out(USAGE);
    return ExitCode.Ok;
  }
  return args.single ? runOne(args, out) : runMany(args, out, err);
}

// `pnpm sim --seed 1 --trace | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`sim: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = ExitCode.Internal;
  },
);
