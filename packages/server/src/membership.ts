/**
 * Membership as a member process sees it: how a member's addresses ride in the Raft configuration,
 * and the JSON of the HTTP admin endpoint `/members` that `keel members` speaks.
 *
 * The engine carries one opaque address string per member in its configuration (it replicates
 * with the Config entries and is recorded in snapshots), so a member added at run time is
 * reachable by everyone, including members that restart later. A Keel member stores its three
 * endpoints there as JSON: `{"peer":"host:port","client":"host:port","http":"host:port"}`.
 */
import { InvalidMemberIdError, isValidMemberId, MEMBER_ID_ERROR_CODE } from '@keel/core';
import { parseAddress } from './addresses.js';

export interface MemberAddresses {
  /** Where peers connect (advertised), `host:port`. */
  readonly peer: string;
  /** Where clients connect (advertised); '' when unknown (writes then cannot be forwarded to it). */
  readonly client: string;
  /** The member's HTTP endpoint; '' when it has none or it is unknown. */
  readonly http: string;
}

export function encodeMemberAddresses(a: MemberAddresses): string {
  return JSON.stringify({ peer: a.peer, client: a.client, http: a.http });
}

/** Decodes a configuration address; an empty or foreign string yields empty fields. */
export function decodeMemberAddresses(text: string): MemberAddresses {
  if (text === '') return { peer: '', client: '', http: '' };
  try {
    const v = JSON.parse(text) as Partial<Record<keyof MemberAddresses, unknown>>;
    const str = (x: unknown): string => (typeof x === 'string' ? x : '');
    return { peer: str(v.peer), client: str(v.client), http: str(v.http) };
  } catch {
    // Not ours: a bare address is taken as the peer address.
    return { peer: text, client: '', http: '' };
  }
}

export const MemberAction = { Add: 'add', Promote: 'promote', Remove: 'remove' } as const;
export type MemberAction = (typeof MemberAction)[keyof typeof MemberAction];

/** `POST /members`: one single-server change, sent to the leader. */
export interface MemberChangeRequest {
  readonly action: MemberAction;
  readonly id: string;
  /**
   * add: as a learner (default true), which never votes or counts until promoted; false adds a
   * voter at once (the cluster may then stall until the new member catches up).
   */
  readonly learner?: boolean;
  /**
   * promote: even a learner that is more than `PROMOTE_MAX_LAG` entries behind the leader (it
   * then votes and counts before it holds the log, and a quorum may wait for it).
   */
  readonly force?: boolean;
  /** add: the new member's addresses. */
  readonly peer?: string;
  readonly client?: string;
  readonly http?: string;
}

export interface MemberInfo extends MemberAddresses {
  readonly id: string;
  readonly role: 'voter' | 'learner';
  /** On the leader: the highest index known replicated there; null elsewhere. */
  readonly match: number | null;
}

/** `GET /members`: the configuration as the answering member has it. */
export interface MembersView {
  readonly id: string;
  readonly leader: string | null;
  readonly term: number;
  readonly commitIndex: number;
  readonly members: readonly MemberInfo[];
}

export type MemberChangeReply =
  | { readonly ok: true; readonly index: number; readonly members: readonly MemberInfo[] }
  | {
      readonly ok: false;
      /** not-leader, conf-change-pending, term-not-committed, learner-not-ready, invalid-conf-change, proposal-dropped, stopped, bad-request, timeout */
      readonly reason: string;
      readonly message: string;
      /** With learner-not-ready: how many entries the learner is behind the leader's last index. */
      readonly behind?: number;
      readonly leaderHint?: string | null;
      /** With not-leader: the leader's HTTP endpoint when known, so a client can retry there. */
      readonly leaderHttp?: string | null;
    };

/**
 * Refusals of `POST /members` that a retry can get past: later (a change still pending, the new
 * leader's term not yet committed) or at another leader. The rest (bad-request,
 * invalid-conf-change, internal) fail the same way every time.
 */
export const RETRYABLE_REFUSALS: readonly string[] = [
  'not-leader',
  'conf-change-pending',
  'term-not-committed',
  'stopped',
  'proposal-dropped',
  'timeout',
];

/**
 * Whether a configuration (`GET /members`, best the leader's) already shows what `change` asks for:
 * how a client settles a change whose outcome it did not hear (a timeout, a leader that lost
 * office or removed itself) without making it twice.
 */
export function changeInEffect(
  view: { readonly members: readonly Pick<MemberInfo, 'id' | 'role'>[] },
  change: Pick<MemberChangeRequest, 'action' | 'id' | 'learner'>,
): boolean {
  const m = view.members.find((x) => x.id === change.id);
  if (change.action === 'remove') return m === undefined;
  if (change.action === 'promote') return m?.role === 'voter';
  return m !== undefined && (change.learner === false ? m.role === 'voter' : true);
}

/**
 * How far behind the leader's last index a learner may be and still be promoted without `force`.
 * A voter that lacks most of the log counts toward quorums it cannot help form: in a 3-member
 * cluster promoted to 4, one more failure stalls every write until the newcomer has caught up.
 * etcd refuses the same way ("can only promote a learner member which is in sync with leader").
 * 1,000 entries are well under a second of replication at Keel's throughput, so a learner that
 * keeps up with a busy leader always qualifies, and one that is still loading the log never does.
 */
export const PROMOTE_MAX_LAG = 1000;

/**
 * On the leader (a view from its `members()`): the refusal for promoting learner `id` while it is
 * more than `PROMOTE_MAX_LAG` entries behind, or null when the promotion may go ahead (or is not
 * this check's business: not the leader, not a learner — the engine answers those).
 */
export function learnerNotReady(
  view: {
    readonly id: string;
    readonly leader: string | null;
    readonly members: readonly Pick<MemberInfo, 'id' | 'role' | 'match'>[];
  },
  id: string,
): Extract<MemberChangeReply, { ok: false }> | null {
  if (view.leader !== view.id) return null;
  const learner = view.members.find((m) => m.id === id && m.role === 'learner');
  const last = view.members.find((m) => m.id === view.id)?.match;
  if (learner === undefined || last === null || last === undefined) return null;
  const match = learner.match ?? 0;
  const behind = Math.max(0, last - match);
  if (behind <= PROMOTE_MAX_LAG) return null;
  return {
    ok: false,
    reason: 'learner-not-ready',
    message: `learner ${id} is ${behind} entries behind the leader (match ${match}, leader's last index ${last}); it can be promoted within ${PROMOTE_MAX_LAG}`,
    behind,
  };
}

/** A `POST /members` body that is refused: a one-line problem and, for an invalid id, its code. */
export class MemberChangeProblem {
  constructor(
    readonly message: string,
    readonly code: string = 'KEEL_BAD_REQUEST',
  ) {}
}

/** Validates a `POST /members` body; returns the request or the problem with it. */
export function parseMemberChange(body: unknown): MemberChangeRequest | MemberChangeProblem {
  const r = memberChange(body);
  return typeof r === 'string' ? new MemberChangeProblem(r) : r;
}

function memberChange(body: unknown): MemberChangeRequest | MemberChangeProblem | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return 'the body must be a JSON object';
  const b = body as Record<string, unknown>;
  const action = b.action;
  if (action !== 'add' && action !== 'promote' && action !== 'remove') {
    return `action must be add, promote or remove, not ${JSON.stringify(action)}`;
  }
  if (!isValidMemberId(b.id))
    return new MemberChangeProblem(new InvalidMemberIdError(b.id, 'id').message, MEMBER_ID_ERROR_CODE);
  if (b.force !== undefined && (action !== 'promote' || typeof b.force !== 'boolean'))
    return 'force must be true or false, and only with promote';
  if (action === 'promote') return { action, id: b.id, ...(b.force === true ? { force: true } : {}) };
  if (action !== 'add') return { action, id: b.id };
  const addr = (k: 'peer' | 'client' | 'http', required: boolean): string | null | undefined => {
    const v = b[k];
    if (v === undefined || v === '') return required ? null : undefined;
    if (typeof v !== 'string' || !parseAddress(v).ok) return null;
    return v;
  };
  const peer = addr('peer', true);
  if (peer === null || peer === undefined) return "add needs the new member's peer address as host:port";
  const client = addr('client', false);
  if (client === null) return 'client must be host:port';
  const http = addr('http', false);
  if (http === null) return 'http must be host:port';
  if (b.learner !== undefined && typeof b.learner !== 'boolean') return 'learner must be true or false';
  return {
    action,
    id: b.id,
    peer,
    ...(client !== undefined ? { client } : {}),
    ...(http !== undefined ? { http } : {}),
    ...(b.learner !== undefined ? { learner: b.learner as boolean } : {}),
  };
}
