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
import { parseAddress } from './peers.js';

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
      /** not-leader, conf-change-pending, term-not-committed, invalid-conf-change, proposal-dropped, stopped, bad-request, timeout */
      readonly reason: string;
      readonly message: string;
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
