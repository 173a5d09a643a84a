/**
 * The lease checks of a chaos run, on what a lease client recorded (all times on the run's one
 * monotonic clock, in ms):
 *
 * (a) Safety — no lease expires while its keep-alive succeeds. A keep-alive that succeeded was
 *     processed by the leader after it was sent, so the lease's deadline then was at least
 *     `sent + ttl`. The key attached to the lease may therefore disappear (its delete event, as the
 *     watch delivered it) only after `sent + ttl` for every successful keep-alive sent before that
 *     delete; a delete delivered earlier was committed earlier still, so it certainly broke the
 *     promise. And a keep-alive sent after the delete was delivered cannot succeed: the lease was
 *     gone.
 * (b) Liveness — a lease whose client stopped renewing is gone soon after its TTL. Its deadline is
 *     at most `answered + ttl`, with `answered` the moment the last successful keep-alive was
 *     answered (or the grant, if none); the delete must be delivered within `bound` of that. Only
 *     leases whose deadline falls while a leader is stable are held to the bound (`stableFrom`): a
 *     new leader restarts every lease's TTL, so during faults the overrun is measured, not judged.
 */

export interface KeepAliveRecord {
  readonly sent: number;
  /** When the answer came; null: no answer (timeout, lost connection). */
  readonly answered: number | null;
  /** The lease was renewed (an answer with a TTL); false for an answer that the lease is gone. */
  readonly ok: boolean;
}

export interface LeaseRecord {
  readonly id: number;
  readonly ttlMs: number;
  /** The key put with the lease. */
  readonly key: string;
  /** When the grant was answered. */
  readonly granted: number;
  readonly keepAlives: readonly KeepAliveRecord[];
  /** When the client stopped renewing on purpose (to let it expire); null: it renewed to the end. */
  readonly stoppedAt: number | null;
  /** When the watch delivered the delete of `key`; null: never (within the run). */
  readonly deletedAt: number | null;
  /** When the client revoked it, if it did (a delete then is the revoke's, not an expiry). */
  readonly revokedAt: number | null;
}

export interface LeaseCheck {
  readonly ok: boolean;
  readonly leases: number;
  /** Leases let expire, and of those, the ones judged against the bound (deadline after `stableFrom`). */
  readonly expired: number;
  readonly judged: number;
  /** Milliseconds from the latest possible deadline to the delivered delete, over expired leases. */
  readonly overrunMs: { readonly p50: number; readonly p99: number; readonly max: number } | null;
  readonly boundMs: number;
  readonly problems: readonly string[];
}

const MAX_PROBLEMS = 20;

export function checkLeases(
  records: readonly LeaseRecord[],
  options: { readonly boundMs: number; readonly stableFrom: number; readonly endedAt: number },
): LeaseCheck {
  const problems: string[] = [];
  const problem = (p: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const overruns: number[] = [];
  let expired = 0;
  let judged = 0;
  for (const l of records) {
    const name = `lease ${l.id} (${l.key}, ttl ${l.ttlMs} ms)`;
    const deleted = l.deletedAt;
    if (deleted !== null && (l.revokedAt === null || deleted < l.revokedAt)) {
      for (const k of l.keepAlives) {
        if (k.ok && k.sent < deleted && deleted < k.sent + l.ttlMs) {
          problem(
            `${name}: its key was deleted at ${fmt(deleted)}, before ${fmt(k.sent + l.ttlMs)} — a keep-alive sent at ${fmt(k.sent)} succeeded`,
          );
          break;
        }
      }
      const late = l.keepAlives.find((k) => k.ok && k.sent > deleted);
      if (late !== undefined) {
        problem(
          `${name}: a keep-alive sent at ${fmt(late.sent)} succeeded after its key was deleted at ${fmt(deleted)}`,
        );
      }
    }
    if (l.stoppedAt === null || l.revokedAt !== null) continue;
    expired++;
    let answered = l.granted;
    for (const k of l.keepAlives) if (k.ok && k.answered !== null) answered = Math.max(answered, k.answered);
    const deadline = answered + l.ttlMs;
    const judge = deadline >= options.stableFrom;
    if (judge) judged++;
    if (deleted === null) {
      if (judge && options.endedAt > deadline + options.boundMs)
        problem(
          `${name}: still there at the end (${fmt(options.endedAt)}), its deadline was ${fmt(deadline)}`,
        );
      continue;
    }
    const overrun = deleted - deadline;
    overruns.push(overrun);
    if (judge && overrun > options.boundMs) {
      problem(
        `${name}: deleted at ${fmt(deleted)}, ${Math.round(overrun)} ms after its deadline (bound ${options.boundMs} ms)`,
      );
    }
  }
  overruns.sort((a, b) => a - b);
  const at = (q: number): number => overruns[Math.min(overruns.length - 1, Math.floor(q * overruns.length))]!;
  return {
    ok: problems.length === 0,
    leases: records.length,
    expired,
    judged,
    overrunMs:
      overruns.length === 0 ? null : { p50: at(0.5), p99: at(0.99), max: overruns[overruns.length - 1]! },
    boundMs: options.boundMs,
    problems,
  };
}

function fmt(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`;
}
