import { parseArgs } from 'node:util';
import { ALL_FAULTS, type Fault, FaultMix } from '@keel/sim';

/** A bad command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const PLANTED_BUGS = {
  'double-vote': { doubleVote: true },
  'commit-old-term': { commitOldTermByCounting: true },
  'learner-votes': { countLearnerVotes: true },
  'two-pending-changes': { skipConfCommitCheck: true },
} as const;
export type PlantedBug = keyof typeof PLANTED_BUGS;

export interface SimArgs {
  readonly help: boolean;
  readonly start: number;
  readonly count: number;
  /** True for `--seed X`: one seed, printed in detail. */
  readonly single: boolean;
  readonly nodes: number | undefined;
  /** Undefined: every fault. */
  readonly faults: readonly Fault[] | undefined;
  /** As given on the command line, for replay hints. */
  readonly faultsArg: string | undefined;
  readonly faultMs: number | undefined;
  readonly trace: boolean;
  readonly json: boolean;
  readonly workers: number | undefined;
  readonly bug: PlantedBug | undefined;
  readonly reads: 'log' | 'read-index' | 'lease' | undefined;
  /** Percent of client operations that are multi-key transactions; undefined: none. */
  readonly txns: number | undefined;
}

export const USAGE = `usage: pnpm sim [--seeds N] [--start S] [--nodes K] [--faults LIST] [--json]
       pnpm sim --seed X [--trace] [--nodes K] [--faults LIST]

  --seeds N        how many seeds to run (default 100)
  --start S        first seed (default 0); runs S .. S+N-1
  --seed X         run one seed and describe it; with --trace, print every event
  --nodes K        cluster size (default: 3, 5 or 7, chosen by the seed)
  --faults LIST    comma-separated fault kinds or mixes (default all)
                   kinds: ${ALL_FAULTS.join(', ')}
                   mixes: ${Object.keys(FaultMix).join(', ')}
  --fault-ms MS    virtual milliseconds of faults before healing (default 3000)
  --workers W      worker threads (default: available cores)
  --reads PATH     how gets are served: log, read-index or lease (default: log or read-index by seed)
  --txns PCT       percent of client operations that are multi-key transactions (default 0)
  --bug NAME       plant a known engine bug to see the checks catch it: ${Object.keys(PLANTED_BUGS).join(', ')}
  --json           one JSON object per failing seed, and a JSON summary as the last line
  --help           this text`;

function integer(
  name: string,
  raw: string | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${raw}`);
  return n;
}

export function parseFaults(raw: string): Fault[] {
  const out = new Set<Fault>();
  for (const part of raw.split(',').map((s) => s.trim())) {
    if (part === '') continue;
    const mix = FaultMix[part];
    if (mix !== undefined) {
      for (const f of mix) out.add(f);
    } else if ((ALL_FAULTS as readonly string[]).includes(part)) {
      out.add(part as Fault);
    } else {
      throw new UsageError(
        `unknown fault '${part}' (kinds: ${ALL_FAULTS.join(', ')}; mixes: ${Object.keys(FaultMix).join(', ')})`,
      );
    }
  }
  // Canonical order, so that the same set always prints the same way.
  return ALL_FAULTS.filter((f) => out.has(f));
}

export function parseSimArgs(argv: readonly string[]): SimArgs {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.split('\n')[0]! : String(err));
  }
  const seed = integer('seed', values.seed, 0);
  if (seed !== undefined && (values.seeds !== undefined || values.start !== undefined)) {
    throw new UsageError('--seed runs one seed; do not combine it with --seeds or --start');
  }
  if (values.trace === true && seed === undefined) throw new UsageError('--trace needs --seed X');
  const bug = values.bug;
  if (bug !== undefined && !(bug in PLANTED_BUGS)) {
    throw new UsageError(`unknown bug '${bug}' (known: ${Object.keys(PLANTED_BUGS).join(', ')})`);
  }
  const reads = values.reads;
  if (reads !== undefined && reads !== 'log' && reads !== 'read-index' && reads !== 'lease') {
    throw new UsageError(`--reads must be log, read-index or lease, got '${reads}'`);
  }
  return {
    help: values.help === true,
    start: seed ?? integer('start', values.start, 0) ?? 0,
    count: seed !== undefined ? 1 : (integer('seeds', values.seeds, 1, 100_000_000) ?? 100),
    single: seed !== undefined,
    nodes: integer('nodes', values.nodes, 1, 15),
    faults: values.faults === undefined ? undefined : parseFaults(values.faults),
    faultsArg: values.faults,
    faultMs: integer('fault-ms', values['fault-ms'], 0, 3_600_000),
    trace: values.trace === true,
    json: values.json === true,
    workers: integer('workers', values.workers, 1, 256),
    bug: bug as PlantedBug | undefined,
    reads,
    txns: integer('txns', values.txns, 0, 100),
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      seeds: { type: 'string' },
      start: { type: 'string' },
      seed: { type: 'string' },
      nodes: { type: 'string' },
      faults: { type: 'string' },
      'fault-ms': { type: 'string' },
      workers: { type: 'string' },
      bug: { type: 'string' },
      reads: { type: 'string' },
      txns: { type: 'string' },
      trace: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
