import { SeededRng } from '@keel/core';

/**
 * The fault families `--faults` selects. `amnesia` is outside the fault model on purpose (it wipes
 * fsynced data on a majority); it exists so tests can prove that the verdict fails when Raft's
 * assumptions are broken, and is not part of `ALL_FAULTS`.
 */
export const FaultFamily = {
  Kill: 'kill',
  Pause: 'pause',
  Partition: 'partition',
  TornWal: 'torn-wal',
  PowerLoss: 'power-loss',
  Transfer: 'transfer',
  Membership: 'membership',
  Amnesia: 'amnesia',
} as const;
export type FaultFamily = (typeof FaultFamily)[keyof typeof FaultFamily];

export const ALL_FAULTS: readonly FaultFamily[] = [
  'kill',
  'pause',
  'partition',
  'torn-wal',
  'power-loss',
  'transfer',
  'membership',
];

/** Who a process fault hits: the leader at that moment, or a fixed member (index into the members). */
export type Target = { readonly kind: 'leader' } | { readonly kind: 'member'; readonly index: number };

/** The shape of a network fault; member indexes are fixed by the schedule, `leader` is resolved live. */
export type PartitionShape =
  /** Two sides, every link between them cut both ways. */
  | { readonly kind: 'split'; readonly minority: readonly number[] }
  /** The leader alone on one side. */
  | { readonly kind: 'isolate-leader' }
  /** Two halves that cannot reach each other, and one member both reach (and that reaches both). */
  | {
      readonly kind: 'bridge';
      readonly left: readonly number[];
      readonly right: readonly number[];
      readonly bridge: number;
    }
  /** One member's links in one direction only: `out`: it hears everyone, nobody hears it. */
  | { readonly kind: 'asymmetric'; readonly member: Target; readonly direction: 'out' | 'in' }
  /** Every link delayed (proxy mode only). */
  | { readonly kind: 'slow'; readonly delayMs: number; readonly jitterMs: number }
  /** Every link resets its connections at random (proxy mode only). */
  | { readonly kind: 'flaky'; readonly resetsPerSecond: number };

export type FaultAction =
  | { readonly kind: 'kill'; readonly target: Target }
  | { readonly kind: 'pause'; readonly target: Target }
  | { readonly kind: 'torn-wal'; readonly target: Target; readonly seed: number }
  /** `everyone`: the whole cluster loses power at once (a datacenter outage), `target` aside. */
  | { readonly kind: 'power-loss'; readonly target: Target; readonly seed: number; readonly everyone?: true }
  | { readonly kind: 'transfer' }
  /**
   * Remove the target from the configuration (its process and data stay), and after the step's
   * duration add it back under the same id and address as a learner, then promote it once caught up.
   */
  | { readonly kind: 'membership'; readonly target: Target }
  /**
   * `reject`: the cut links refuse instead of dropping (the proxy resets connections; netns uses
   * `prohibit` routes, which answer with ICMP errors). Absent: a blackhole.
   */
  | { readonly kind: 'partition'; readonly shape: PartitionShape; readonly reject?: true }
  | { readonly kind: 'amnesia'; readonly keep: number };

/** One fault: applied at `atMs` after the start, undone `durationMs` later (restart, resume, heal). */
export interface FaultStep {
  readonly atMs: number;
  readonly durationMs: number;
  readonly action: FaultAction;
}

export interface ScheduleOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly durationMs: number;
  readonly faults: readonly FaultFamily[];
  /** Whether the network can delay and disturb links (proxy mode), not only cut them (netns). */
  readonly linkModes: boolean;
}

const PROCESS_FAULTS: ReadonlySet<FaultFamily> = new Set([
  'kill',
  'pause',
  'torn-wal',
  'power-loss',
  'transfer',
  'amnesia',
]);

/**
 * How many members membership steps may hold out of the configuration at once: never so many that
 * fewer than 3 voters remain, except that a 3-member cluster lends one (2 voters stay, a quorum of 2).
 */
export function maxRemoved(nodes: number): number {
  return Math.max(1, nodes - 3);
}

/** Mixed into the seed for the membership tracks' streams, so they move no draw of the others. */
const MEMBERSHIP_SALT = 0x6d656d62;

/**
 * The fault schedule of a run: a pure function of its options, so the same `--seed` gives the same
 * faults at the same offsets (which member is leader is looked up when a step runs). Tracks run
 * side by side — process faults (one member at a time), network faults, and membership changes
 * (`maxRemoved` tracks) — each alternating a quiet gap and one fault, so a process fault can land
 * inside a partition or while a member is out of the configuration, as in production.
 */
export function buildSchedule(o: ScheduleOptions): FaultStep[] {
  const rng = new SeededRng(o.seed);
  // Each track draws from its own stream: enabling one family does not move the other's faults.
  const processSeed = rng.next();
  const networkSeed = rng.next();
  const steps: FaultStep[] = [];
  const processFamilies = o.faults.filter((f) => PROCESS_FAULTS.has(f));
  if (processFamilies.length > 0) steps.push(...track(processSeed, o, processFamilies, processStep));
  if (o.faults.includes('partition')) {
    // A third stream, so choosing blackhole or reject moves none of the other draws.
    const styleRng = new SeededRng(rng.next());
    for (const s of track(networkSeed, o, ['partition'], networkStep)) {
      const a = s.action;
      const cut = a.kind === 'partition' && a.shape.kind !== 'slow' && a.shape.kind !== 'flaky';
      steps.push(cut && styleRng.float() < 0.3 ? { ...s, action: { ...a, reject: true } as FaultAction } : s);
    }
  }
  if (o.faults.includes('membership')) {
    for (let slot = 0; slot < maxRemoved(o.nodes); slot++) {
      const membershipSeed = (o.seed ^ (MEMBERSHIP_SALT + slot)) >>> 0;
      // A longer quiet gap: the re-add and promotion take a second or two beyond the step.
      steps.push(...track(membershipSeed, o, ['membership'], membershipStep, [2000, 6000]));
    }
  }
  return steps.sort((a, b) => a.atMs - b.atMs || a.action.kind.localeCompare(b.action.kind));
}

type StepMaker = (rng: SeededRng, family: FaultFamily, o: ScheduleOptions) => Omit<FaultStep, 'atMs'>;

/**
 * One track. Every family of the track that fits in the run gets at least one step: when the
 * random draw left one out (a short run, an unlucky seed), the track is drawn again from the same
 * seed with its first steps given to the missing families, so a run asked for `transfer` does
 * transfer — and a schedule that already had every family is exactly what it was before.
 */
function track(
  seed: number,
  o: ScheduleOptions,
  families: readonly FaultFamily[],
  make: StepMaker,
  gapMs: readonly [number, number] = [500, 2500],
): FaultStep[] {
  const drawn = trackSteps(new SeededRng(seed), o, families, make, gapMs, []);
  const missing = families.filter((f) => !drawn.some((s) => familyOf(s.action) === f));
  if (missing.length === 0) return drawn;
  return trackSteps(new SeededRng(seed), o, families, make, gapMs, missing);
}

function trackSteps(
  rng: SeededRng,
  o: ScheduleOptions,
  families: readonly FaultFamily[],
  make: StepMaker,
  gapMs: readonly [number, number],
  first: readonly FaultFamily[],
): FaultStep[] {
  const out: FaultStep[] = [];
  // The first fault waits for the workload to get going; the last one ends before the run does.
  let t = between(rng, 1000, 2500);
  for (;;) {
    const drawn = families[rng.int(families.length)]!;
    const family = first[out.length] ?? drawn;
    const step = make(rng, family, o);
    if (t + step.durationMs > o.durationMs) break;
    out.push({ atMs: t, ...step });
    t += step.durationMs + between(rng, gapMs[0], gapMs[1]);
  }
  return out;
}

/** The family `--faults` names for an action (a power loss of every member is still `power-loss`). */
export function familyOf(a: FaultAction): FaultFamily {
  return a.kind;
}

function target(rng: SeededRng, nodes: number): Target {
  return rng.float() < 0.5 ? { kind: 'leader' } : { kind: 'member', index: rng.int(nodes) };
}

function processStep(rng: SeededRng, family: FaultFamily, o: ScheduleOptions): Omit<FaultStep, 'atMs'> {
  switch (family) {
    case 'kill':
      return { durationMs: between(rng, 200, 3000), action: { kind: 'kill', target: target(rng, o.nodes) } };
    case 'pause':
      // Short pauses stay within an election timeout (150-300 ms by default); long ones outlast it.
      return {
        durationMs: rng.float() < 0.3 ? between(rng, 40, 250) : between(rng, 400, 4000),
        action: { kind: 'pause', target: target(rng, o.nodes) },
      };
    case 'torn-wal':
      return {
        durationMs: between(rng, 200, 2500),
        action: { kind: family, target: target(rng, o.nodes), seed: rng.next() },
      };
    case 'power-loss': {
      const durationMs = between(rng, 200, 2500);
      const t = target(rng, o.nodes);
      const seed = rng.next();
      // One in eight is a cluster-wide outage, decided by the seed already drawn (no extra draw,
      // so schedules made before this existed keep every offset).
      return {
        durationMs,
        action:
          seed % 8 === 0
            ? { kind: family, target: t, seed, everyone: true }
            : { kind: family, target: t, seed },
      };
    }
    case 'transfer':
      return { durationMs: between(rng, 200, 1500), action: { kind: 'transfer' } };
    case 'amnesia':
      return { durationMs: between(rng, 3000, 5000), action: { kind: 'amnesia', keep: rng.int(o.nodes) } };
    default:
      throw new Error(`not a process fault: ${family}`);
  }
}

/**
 * Out for 1-6 s; the re-add, the catch-up and the promotion come on top (the nemesis runs a slot's
 * steps one after the other even when they take longer than scheduled).
 */
function membershipStep(rng: SeededRng, _family: FaultFamily, o: ScheduleOptions): Omit<FaultStep, 'atMs'> {
  return {
    durationMs: between(rng, 1000, 6000),
    action: { kind: 'membership', target: target(rng, o.nodes) },
  };
}

function networkStep(rng: SeededRng, _family: FaultFamily, o: ScheduleOptions): Omit<FaultStep, 'atMs'> {
  const shapes = [
    'split',
    'isolate-leader',
    'bridge',
    'asymmetric',
    ...(o.linkModes ? ['slow', 'flaky'] : []),
  ];
  const kind = shapes[rng.int(shapes.length)]!;
  const durationMs = between(rng, 500, 5000);
  const order = shuffle(rng, range(o.nodes));
  let shape: PartitionShape;
  switch (kind) {
    case 'split':
      shape = { kind: 'split', minority: order.slice(0, 1 + rng.int(Math.floor(o.nodes / 2))).sort() };
      break;
    case 'isolate-leader':
      shape = { kind: 'isolate-leader' };
      break;
    case 'bridge': {
      const half = Math.floor((o.nodes - 1) / 2);
      shape = {
        kind: 'bridge',
        bridge: order[0]!,
        left: order.slice(1, 1 + half).sort(),
        right: order.slice(1 + half).sort(),
      };
      break;
    }
    case 'asymmetric':
      shape = {
        kind: 'asymmetric',
        member: target(rng, o.nodes),
        direction: rng.float() < 0.5 ? 'out' : 'in',
      };
      break;
    case 'slow':
      shape = { kind: 'slow', delayMs: between(rng, 5, 120), jitterMs: between(rng, 0, 40) };
      break;
    default:
      shape = { kind: 'flaky', resetsPerSecond: between(rng, 1, 5) };
  }
  return { durationMs, action: { kind: 'partition', shape } };
}

/** An integer in [lo, hi]. */
function between(rng: SeededRng, lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_v, i) => i);
}

function shuffle<T>(rng: SeededRng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** `kill leader for 1.2 s`, `partition split [n1] | rest for 3.0 s`, ... (member ids are n1..nN). */
export function describeStep(s: FaultStep): string {
  return `${describeAction(s.action)} for ${(s.durationMs / 1000).toFixed(1)} s`;
}

export function describeTarget(t: Target): string {
  return t.kind === 'leader' ? 'the leader' : memberId(t.index);
}

export function memberId(index: number): string {
  return `n${index + 1}`;
}

export function describeAction(a: FaultAction): string {
  const ids = (xs: readonly number[]): string => xs.map(memberId).join(',');
  switch (a.kind) {
    case 'power-loss':
      if (a.everyone === true) return 'power-loss of every member (cluster-wide outage)';
      return `${a.kind} ${describeTarget(a.target)}`;
    case 'kill':
    case 'pause':
    case 'torn-wal':
      return `${a.kind} ${describeTarget(a.target)}`;
    case 'transfer':
      return 'transfer (graceful restart of the leader)';
    case 'membership':
      return `membership: remove ${describeTarget(a.target)}, re-add it as a learner, promote it`;
    case 'amnesia':
      return `amnesia (wipe the WAL of every member but ${memberId(a.keep)})`;
    case 'partition': {
      const s = a.shape;
      if (a.reject === true) return `${describeAction({ kind: 'partition', shape: s })} (links reject)`;
      switch (s.kind) {
        case 'split':
          return `partition {${ids(s.minority)}} | rest`;
        case 'isolate-leader':
          return 'partition: isolate the leader';
        case 'bridge':
          return `partition {${ids(s.left)}} | {${ids(s.right)}} bridged by ${memberId(s.bridge)}`;
        case 'asymmetric':
          return `asymmetric: ${describeTarget(s.member)} ${s.direction === 'out' ? 'cannot send' : 'cannot receive'}`;
        case 'slow':
          return `slow links ${s.delayMs}+${s.jitterMs} ms`;
        case 'flaky':
          return `flaky links (${s.resetsPerSecond} resets/s)`;
      }
    }
  }
}
