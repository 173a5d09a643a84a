/** A fault as it happened: what, on whom, from when to when (ms on the run's monotonic clock). */
export interface FaultEvent {
  /** Position in the schedule (the same for the same seed). */
  readonly step: number;
  readonly kind: string;
  readonly description: string;
  /** Members it hit, by id, as resolved when it started (the leader of the moment, ...). */
  readonly members: readonly string[];
  readonly start: number;
  /** When it was undone (restart, resume, heal); null while active. */
  end: number | null;
  /** What happened: bytes torn, the leader before and after, why nothing was done, ... */
  readonly notes: string[];
}

/** The faults whose intervals meet [from, to]. */
export function faultsDuring(faults: readonly FaultEvent[], from: number, to: number): FaultEvent[] {
  return faults.filter((f) => f.start <= to && (f.end === null || f.end >= from));
}
