import { type Entry, type LogStorage, type NodeId, type Ready, Role, type SnapshotMeta } from '@keel/core';

/** The safety properties of Raft (Figure 3) plus the contracts the simulator can see from outside. */
export const Property = {
  ElectionSafety: 'election-safety',
  LeaderAppendOnly: 'leader-append-only',
  LogMatching: 'log-matching',
  LeaderCompleteness: 'leader-completeness',
  /** A leader's commit index moves only to an entry of its own term (§5.4.2, Figure 8). */
  LeaderCommitRule: 'leader-commit-rule',
  StateMachineSafety: 'state-machine-safety',
  /** A member voted for two candidates in one term. */
  VoteOnce: 'vote-once',
  /** Terms never go backwards within a member's incarnation. */
  TermMonotonic: 'term-monotonic',
  /** The Ready contract as seen from the outside (numbering, applying only what is in the log). */
  ReadyContract: 'ready-contract',
  /** What the stores hold agrees with what the Readys asked for. */
  Storage: 'storage',
  /** A committed entry is durable on a majority (nothing is acknowledged before its fsync). */
  Durability: 'durability',
  Liveness: 'liveness',
  /**
   * A leader whose transfer did not complete serves again within an election timeout (§3.10): no
   * proposal is refused because of a transfer begun longer ago than that (paused time excluded).
   */
  TransferAbort: 'transfer-abort',
  /**
   * On a quiet network a transfer to a live member completes (§3.10): the target catches up, by
   * appends or by InstallSnapshot, gets TimeoutNow and wins. Checked by the catch-up transfer phase.
   */
  TransferComplete: 'transfer-complete',
  Linearizability: 'linearizability',
  Fatal: 'fatal-error',
} as const;
export type Property = (typeof Property)[keyof typeof Property];

export interface InvariantViolation {
  readonly property: Property;
  readonly time: number;
  readonly node: NodeId | null;
  readonly message: string;
}

/**
 * What the checker believes one member's log holds (durable or not), rebuilt from its store at every
 * start and kept up to date from the entries of its Readys. `chain[i]` hashes the entry at `i` and
 * everything before it, so "same prefix" is one comparison.
 */
interface Shadow {
  first: number;
  terms: number[];
  chain: number[];
  role: Role;
  term: number;
  /** The term this member leads, or 0. */
  leaderTerm: number;
  voteTerm: number;
  vote: NodeId | null;
  lastReady: number;
  lastApplied: number;
  commit: number;
}

interface Committed {
  readonly term: number;
  readonly chain: number;
  /** An upper bound on the term in which it was committed: the term of whoever reported it. */
  readonly commitTerm: number;
}

const TERM_BITS = 0x10_0000;

/** What of a member's log would survive a crash now; `LogStorage` of a recovered store fits. */
export interface DurableView {
  term(index: number): number;
  firstIndex(): number;
}

/**
 * Checks the Raft safety properties incrementally, from the Readys each member emits and the entries
 * it applies. Each check costs O(entries in the event), except Leader Completeness, which walks the
 * committed prefix once per election.
 *
 * Log Matching is checked in its strongest form: an (index, term) pair names one entry and one log
 * prefix for the whole run, across every member and incarnation (a leader creates each entry once
 * and never rewrites its own log, and followers accept an entry only after the consistency check).
 */
export class InvariantChecker {
  readonly violations: InvariantViolation[] = [];
  private readonly shadows = new Map<NodeId, Shadow>();
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** (index, term) → chain hash of the prefix ending there. */
  private readonly prefixAt = new Map<number, number>();
  /** By index; index 0 is a placeholder so that the length is the commit index + 1. */
  private readonly committed: Committed[] = [{ term: 0, chain: 0, commitTerm: 0 }];
  private readonly appliedAt: { term: number; hash: number }[] = [];
  /** Hash of the state-machine snapshot taken at each index (by any member). */
  private readonly snapshotAt = new Map<number, number>();
  /** Elections won (distinct leader terms). */
  leaders = 0;
  /**
   * When set, each newly committed entry must already be durable on enough voters that every
   * quorum of the configuration includes one of them. Returns the voters' durable views.
   */
  durableLogs: (() => ReadonlyMap<NodeId, DurableView>) | null = null;

  constructor(
    private readonly now: () => number,
    private readonly onViolation: (v: InvariantViolation) => void = () => {},
    /** Properties not to report (to show that a deeper property also catches a planted bug). */
    private readonly disabled: ReadonlySet<Property> = new Set(),
  ) {}

  get ok(): boolean {
    return this.violations.length === 0;
  }

  /** Highest index known committed anywhere. */
  get commitIndex(): number {
    return this.committed.length - 1;
  }

  /** A member (re)started from what its store holds. */
  nodeStarted(id: NodeId, store: LogStorage): void {
    const first = store.firstIndex();
    const last = store.lastIndex();
    const hs = store.initialState().hardState;
    const prevTerm = store.term(first - 1);
    const s: Shadow = {
      first,
      terms: [prevTerm],
      chain: [this.baseChain(id, first - 1, prevTerm)],
      role: Role.Follower,
      term: hs.term,
      leaderTerm: 0,
      voteTerm: hs.term,
      vote: hs.vote,
      lastReady: 0,
      lastApplied: first - 1,
      commit: hs.commit,
    };
    this.shadows.set(id, s);
    if (last >= first) this.append(id, s, store.entries(first, last + 1, Number.POSITIVE_INFINITY));
  }

  /**
   * The chain hash of the prefix ending at (index, term), for a log that starts after it (a
   * compacted log or an installed snapshot): every entry was appended by some leader's Ready first,
   * so the whole-run map knows it. Log Matching then compares compacted and full logs alike.
   */
  private baseChain(id: NodeId, index: number, term: number): number {
    if (index === 0) return 0;
    const seen = this.prefixAt.get(index * TERM_BITS + term);
    if (seen !== undefined) return seen;
    this.fail(
      Property.LogMatching,
      id,
      `log starts after ${index}@${term}, an entry no leader ever appended`,
    );
    return mix(0, term, index);
  }

  /** Replaces a member's log by a snapshot's (index, term): an install, or a restart that reset the log. */
  private resetTo(id: NodeId, s: Shadow, index: number, term: number): void {
    s.first = index + 1;
    s.terms = [term];
    s.chain = [this.baseChain(id, index, term)];
  }

  /**
   * A snapshot covers only committed entries (§7): its (index, term) must be the committed entry
   * there, when that is known.
   */
  private checkSnapshotCommitted(id: NodeId, meta: { index: number; term: number }, what: string): void {
    const c = this.committed[meta.index];
    if (c !== undefined && c.term !== meta.term) {
      this.fail(
        Property.StateMachineSafety,
        id,
        `${what} snapshot ${meta.index}@${meta.term} but ${meta.index}@${c.term} was committed`,
      );
    }
  }

  /** `id` saved a snapshot of its state machine: equal indexes must give equal states everywhere. */
  onSnapshot(id: NodeId, meta: SnapshotMeta, data: Uint8Array): void {
    this.checkSnapshotCommitted(id, meta, 'took');
    const h = bytesHash(data);
    const prev = this.snapshotAt.get(meta.index);
    if (prev === undefined) this.snapshotAt.set(meta.index, h);
    else if (prev !== h) {
      this.fail(
        Property.StateMachineSafety,
        id,
        `its state machine at ${meta.index} differs from another member's snapshot at ${meta.index}`,
      );
    }
  }

  /** `id`'s state machine was restored from a snapshot (at startup, or installing the leader's). */
  onRestore(id: NodeId, meta: SnapshotMeta, data: Uint8Array): void {
    const s = this.shadows.get(id);
    this.checkSnapshotCommitted(id, meta, 'restored');
    const prev = this.snapshotAt.get(meta.index);
    if (prev !== undefined && prev !== bytesHash(data)) {
      this.fail(
        Property.StateMachineSafety,
        id,
        `restored a snapshot at ${meta.index} unlike the one taken there`,
      );
    }
    if (s === undefined) return;
    s.lastApplied = meta.index;
    // A restart whose log did not reach the snapshot resets the log to start after it.
    if (this.termAt(s, meta.index) !== meta.term) this.resetTo(id, s, meta.index, meta.term);
  }

  nodeStopped(id: NodeId): void {
    this.shadows.delete(id);
  }

  /** The term a member currently leads, or 0. */
  leaderTerm(id: NodeId): number {
    return this.shadows.get(id)?.leaderTerm ?? 0;
  }

  lastIndex(id: NodeId): number {
    const s = this.shadows.get(id);
    return s === undefined ? 0 : s.first + s.terms.length - 2;
  }

  onReady(id: NodeId, rd: Ready): void {
    const s = this.shadows.get(id);
    if (s === undefined) {
      this.fail(Property.ReadyContract, id, 'Ready from a member that is not running');
      return;
    }
    if (rd.number <= s.lastReady) {
      this.fail(Property.ReadyContract, id, `Ready ${rd.number} after Ready ${s.lastReady}`);
    }
    s.lastReady = rd.number;

    const wasLeading = s.leaderTerm;
    const soft = rd.softState;
    const stillLeading =
      wasLeading > 0 && (soft === null || (soft.role === Role.Leader && soft.term === wasLeading));

    if (rd.hardState !== null) {
      const hs = rd.hardState;
      if (hs.term < s.term) {
        this.fail(Property.TermMonotonic, id, `term went from ${s.term} back to ${hs.term}`);
      }
      if (hs.vote !== null && hs.term === s.voteTerm && s.vote !== null && s.vote !== hs.vote) {
        this.fail(Property.VoteOnce, id, `voted for ${s.vote} and then ${hs.vote} in term ${hs.term}`);
      }
      if (hs.term !== s.voteTerm || hs.vote !== null) {
        s.voteTerm = hs.term;
        s.vote = hs.vote;
      }
      s.term = Math.max(s.term, hs.term);
    }

    if (rd.snapshot !== null) {
      if (stillLeading)
        this.fail(Property.LeaderAppendOnly, id, `leader of term ${wasLeading} installed a snapshot`);
      this.checkSnapshotCommitted(id, rd.snapshot, 'installed');
      this.resetTo(id, s, rd.snapshot.index, rd.snapshot.term);
      if (rd.snapshot.index > s.commit) s.commit = rd.snapshot.index;
    }

    if (rd.entries.length > 0) {
      const firstNew = rd.entries[0]!.index;
      const last = this.lastIndex(id);
      if (stillLeading) {
        if (firstNew <= last) {
          this.fail(
            Property.LeaderAppendOnly,
            id,
            `leader of term ${wasLeading} rewrote its log from index ${firstNew} (last index ${last})`,
          );
        }
        for (const e of rd.entries) {
          if (e.term !== wasLeading) {
            this.fail(
              Property.LeaderAppendOnly,
              id,
              `leader of term ${wasLeading} appended ${e.index}@${e.term}`,
            );
            break;
          }
        }
      }
      if (firstNew > last + 1 || firstNew < s.first) {
        this.fail(Property.ReadyContract, id, `Ready appends at ${firstNew} but the log ends at ${last}`);
      } else {
        this.truncate(s, firstNew);
        this.append(id, s, rd.entries);
      }
    }

    if (soft !== null) {
      s.role = soft.role;
      s.term = Math.max(s.term, soft.term);
      if (soft.role === Role.Leader) {
        if (s.leaderTerm !== soft.term) this.becameLeader(id, s, soft.term);
      } else {
        s.leaderTerm = 0;
      }
    }

    if (rd.hardState !== null && rd.hardState.commit > s.commit) {
      const commit = rd.hardState.commit;
      // §5.4.2 (Figure 8): a leader commits by counting replicas only entries of its own term.
      if (stillLeading && this.termAt(s, commit) !== wasLeading) {
        this.fail(
          Property.LeaderCommitRule,
          id,
          `leader of term ${wasLeading} advanced its commit index to ${commit}@${this.termAt(s, commit)}, an entry of an earlier term`,
        );
      }
      s.commit = commit;
    }

    for (const e of rd.committed) this.learnCommitted(id, s, e);
  }

  /** An entry is about to be applied on `id` (every member must apply the same entry at each index). */
  onApply(id: NodeId, e: Entry): void {
    const s = this.shadows.get(id);
    if (s === undefined) return;
    if (e.index !== s.lastApplied + 1) {
      this.fail(Property.StateMachineSafety, id, `applied ${e.index} after ${s.lastApplied}`);
    }
    s.lastApplied = e.index;
    const hash = entryHash(e);
    const prev = this.appliedAt[e.index];
    if (prev === undefined) {
      this.appliedAt[e.index] = { term: e.term, hash };
    } else if (prev.term !== e.term || prev.hash !== hash) {
      this.fail(
        Property.StateMachineSafety,
        id,
        `applied ${e.index}@${e.term} where another member applied ${e.index}@${prev.term}` +
          (prev.term === e.term ? ' with different data' : ''),
      );
    }
    const c = this.committed[e.index];
    if (c !== undefined && c.term !== e.term) {
      this.fail(
        Property.StateMachineSafety,
        id,
        `applied ${e.index}@${e.term} but ${e.index}@${c.term} was committed`,
      );
    }
  }

  /**
   * Compares what a store holds with the checker's picture of that member's log (call while the
   * member is running, at a point where its driver has handed every Ready to storage).
   */
  checkStore(id: NodeId, store: LogStorage): void {
    const s = this.shadows.get(id);
    if (s === undefined) return;
    const last = this.lastIndex(id);
    if (store.lastIndex() !== last) {
      this.fail(Property.Storage, id, `store ends at ${store.lastIndex()}, the Readys at ${last}`);
      return;
    }
    // The store may have compacted a prefix the checker still remembers; it must not lack more.
    const from = Math.max(s.first - 1, store.firstIndex() - 1);
    if (from > last) {
      this.fail(Property.Storage, id, `store starts at ${store.firstIndex()}, after its last index ${last}`);
      return;
    }
    for (let i = from; i <= last; i++) {
      if (i === 0) continue;
      const t = store.term(i);
      if (t !== s.terms[i - s.first + 1]) {
        this.fail(Property.Storage, id, `store has ${i}@${t}, the Readys ${i}@${s.terms[i - s.first + 1]}`);
        return;
      }
    }
  }

  /**
   * Every committed entry must be durable on a majority at all times: a leader counts an entry only
   * once a majority's fsyncs covered it, and no member ever loses or truncates a committed entry.
   * `durable` maps each member to what would survive its crash right now.
   */
  checkDurableQuorum(durable: ReadonlyMap<NodeId, DurableView>): void {
    for (let i = this.committed.length - 1; i >= 1; i--) {
      const c = this.committed[i];
      if (c === undefined) continue;
      let holders = 0;
      for (const log of durable.values()) if (log.term(i) === c.term || log.firstIndex() > i) holders++;
      if (!intersectsEveryQuorum(holders, durable.size)) {
        const lacking = [...durable]
          .filter(([, log]) => !(log.term(i) === c.term || log.firstIndex() > i))
          .map(([id, log]) => `${id} has ${i}@${log.term(i)} from ${log.firstIndex()}`);
        this.fail(
          Property.Durability,
          null,
          `committed entry ${i}@${c.term} is durable on only ${holders} of ${durable.size} members (${lacking.join('; ')})`,
        );
        return;
      }
    }
  }

  /** Records a violation found outside (liveness, linearizability, a node's fatal error). */
  report(property: Property, node: NodeId | null, message: string): void {
    this.fail(property, node, message);
  }

  private becameLeader(id: NodeId, s: Shadow, term: number): void {
    s.leaderTerm = term;
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== id) {
      this.fail(Property.ElectionSafety, id, `${id} and ${other} are both leaders of term ${term}`);
    }
    if (other === undefined) {
      this.leaderOfTerm.set(term, id);
      this.leaders++;
    }
    // §5.4: every entry committed in an earlier term is in the new leader's log.
    for (let i = 1; i < this.committed.length; i++) {
      const c = this.committed[i]!;
      if (c.commitTerm < term && !this.holds(s, i, c)) {
        this.fail(
          Property.LeaderCompleteness,
          id,
          `leader of term ${term} lacks committed entry ${i}@${c.term} (its log: ${this.describe(s, i)})`,
        );
        return;
      }
    }
  }

  private learnCommitted(id: NodeId, s: Shadow, e: Entry): void {
    const at = e.index - s.first + 1;
    if (at < 1 || at >= s.terms.length || s.terms[at] !== e.term) {
      this.fail(
        Property.ReadyContract,
        id,
        `Ready commits ${e.index}@${e.term}, which is not in its log (${this.describe(s, e.index)})`,
      );
      return;
    }
    const chain = s.chain[at]!;
    const known = this.committed[e.index];
    if (known !== undefined) {
      if (known.chain !== chain) {
        this.fail(
          Property.StateMachineSafety,
          id,
          `commits ${e.index}@${e.term} but ${e.index}@${known.term} was committed before`,
        );
      }
      return;
    }
    if (e.index > this.committed.length) {
      // Commit indexes only grow by contiguous prefixes; fill in what this member's log says.
      for (let i = this.committed.length; i < e.index; i++) {
        const j = i - s.first + 1;
        if (j >= 1) this.committed[i] = { term: s.terms[j]!, chain: s.chain[j]!, commitTerm: s.term };
      }
    }
    const c: Committed = { term: e.term, chain, commitTerm: s.term };
    this.committed[e.index] = c;
    const durable = this.durableLogs?.();
    if (durable !== undefined) {
      let holders = 0;
      for (const log of durable.values())
        if (log.term(e.index) === e.term || log.firstIndex() > e.index) holders++;
      if (!intersectsEveryQuorum(holders, durable.size)) {
        this.fail(
          Property.Durability,
          id,
          `${e.index}@${e.term} is committed but durable on only ${holders} of ${durable.size} members`,
        );
      }
    }
    // Leaders of later terms must already hold it.
    for (const [other, os] of this.shadows) {
      if (os.leaderTerm > c.commitTerm && !this.holds(os, e.index, c)) {
        this.fail(
          Property.LeaderCompleteness,
          other,
          `${e.index}@${e.term} committed in term ${c.commitTerm} or earlier is missing from the log of the leader of term ${os.leaderTerm}`,
        );
      }
    }
  }

  private termAt(s: Shadow, index: number): number {
    const at = index - s.first + 1;
    return at >= 0 && at < s.terms.length ? s.terms[at]! : -1;
  }

  private holds(s: Shadow, index: number, c: Committed): boolean {
    const at = index - s.first + 1;
    if (at < 1) return true; // compacted: a snapshot covers it
    return at < s.chain.length && s.chain[at] === c.chain;
  }

  private describe(s: Shadow, index: number): string {
    const at = index - s.first + 1;
    const last = s.first + s.terms.length - 2;
    return at >= 1 && at < s.terms.length ? `has ${index}@${s.terms[at]}` : `ends at ${last}`;
  }

  private truncate(s: Shadow, from: number): void {
    const keep = from - s.first + 1;
    if (keep < s.terms.length) {
      s.terms.length = keep;
      s.chain.length = keep;
    }
  }

  private append(id: NodeId, s: Shadow, entries: readonly Entry[]): void {
    for (const e of entries) {
      const prev = s.chain[s.chain.length - 1]!;
      const chain = mix(prev, e.term, entryHash(e));
      s.terms.push(e.term);
      s.chain.push(chain);
      if (e.term >= TERM_BITS) continue;
      const key = e.index * TERM_BITS + e.term;
      const seen = this.prefixAt.get(key);
      if (seen === undefined) this.prefixAt.set(key, chain);
      else if (seen !== chain) {
        this.fail(
          Property.LogMatching,
          id,
          `entry ${e.index}@${e.term} differs from another log's ${e.index}@${e.term} (in itself or an earlier entry)`,
        );
      }
    }
  }

  private fail(property: Property, node: NodeId | null, message: string): void {
    if (this.disabled.has(property)) return;
    const v: InvariantViolation = { property, time: this.now(), node, message };
    this.violations.push(v);
    this.onViolation(v);
  }
}

/**
 * Whether `holders` of `voters` members are enough that every majority of the voters includes one
 * of them: holders ≥ ⌈n/2⌉. For an odd number of voters that is a majority itself; for an even
 * number one fewer, which is still what Leader Completeness needs (and what a configuration that
 * just grew by one voter has until the newcomer catches up).
 */
function intersectsEveryQuorum(holders: number, voters: number): boolean {
  return 2 * holders >= voters;
}

function bytesHash(d: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < d.length; i++) {
    h ^= d[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** FNV-1a over the entry's type and payload. */
export function entryHash(e: Entry): number {
  let h = 0x811c9dc5 ^ e.type;
  h = Math.imul(h, 0x01000193);
  const d = e.data;
  for (let i = 0; i < d.length; i++) {
    h ^= d[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mix(prev: number, term: number, hash: number): number {
  let h = Math.imul(prev ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(term + 0x632be5ab, 0xc2b2ae35) ^ hash;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
