import type { ConfChange, NodeId, RaftNode } from '@keel/core';
import type { Logger } from 'pino';
import type { AddressBook } from './addressBook.js';
import {
  encodeMemberAddresses,
  learnerNotReady,
  type MemberChangeReply,
  type MemberChangeRequest,
  type MemberInfo,
  type MembersView,
} from './membership.js';

/** A membership change not applied here within this is answered `timeout` (it may still take effect). */
const PROPOSAL_TIMEOUT_MS = 5000;

/** What the membership operations need from the member. */
export interface MembershipContext {
  readonly id: NodeId;
  readonly node: RaftNode<unknown>;
  readonly book: AddressBook;
  readonly log: Logger;
  readonly electionTimeoutMs: number;
}

/** `GET /members`: the configuration as this member has it, with each member's addresses. */
export function membersView(ctx: MembershipContext): MembersView {
  const s = ctx.node.status();
  const info = (id: NodeId, role: 'voter' | 'learner'): MemberInfo => {
    const a = ctx.book.get(id) ?? { peer: '', client: '', http: '' };
    const pr = s.role === 'leader' && id !== ctx.id ? ctx.node.progress(id) : null;
    const match = id === ctx.id && s.role === 'leader' ? s.lastIndex : (pr?.match ?? null);
    return { id, role, ...a, match };
  };
  return {
    id: ctx.id,
    leader: s.leader,
    term: s.term,
    commitIndex: s.commitIndex,
    members: [
      ...s.conf.voters.map((id) => info(id, 'voter')),
      ...s.conf.learners.map((id) => info(id, 'learner')),
    ],
  };
}

/**
 * `POST /members`: one single-server change through the engine. A leader that has not yet
 * committed an entry of its term refuses changes for a moment (§4.1); that is retried here for
 * up to an election timeout, so callers only see it when the cluster really has no stable leader.
 */
export async function changeMembers(
  ctx: MembershipContext,
  req: MemberChangeRequest,
): Promise<MemberChangeReply> {
  if (req.action === 'promote' && req.force !== true) {
    const refusal = learnerNotReady(membersView(ctx), req.id);
    if (refusal !== null) return refusal;
  }
  const change: ConfChange =
    req.action === 'add'
      ? {
          type: req.learner === false ? 'addVoter' : 'addLearner',
          id: req.id,
          address: encodeMemberAddresses({
            peer: req.peer ?? '',
            client: req.client ?? '',
            http: req.http ?? '',
          }),
        }
      : { type: req.action === 'promote' ? 'promote' : 'remove', id: req.id };
  const deadline = performance.now() + Math.max(1000, ctx.electionTimeoutMs * 2);
  for (;;) {
    type Outcome = Parameters<Parameters<RaftNode['proposeConfChange']>[1]>[0] | 'timeout';
    const outcome = await new Promise<Outcome>((resolve) => {
      // A leader that loses office (or is the member removed) before the entry applies here
      // may never see it apply: answer "unknown" after a bound instead of hanging.
      const timer = setTimeout(() => resolve('timeout'), PROPOSAL_TIMEOUT_MS);
      ctx.node.proposeConfChange(change, (o) => {
        clearTimeout(timer);
        resolve(o);
      });
    });
    if (outcome === 'timeout') {
      return {
        ok: false,
        reason: 'timeout',
        message: `not applied here within ${PROPOSAL_TIMEOUT_MS} ms; it may still take effect (see GET /members on the leader)`,
      };
    }
    if (outcome.ok) {
      ctx.log.info({ change, index: outcome.index }, `membership change applied: ${req.action} ${req.id}`);
      return { ok: true, index: outcome.index, members: membersView(ctx).members };
    }
    if (outcome.reason === 'term-not-committed' && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    if (outcome.reason === 'not-leader') {
      const hint = outcome.leaderHint;
      const http = hint === null ? null : ctx.book.get(hint)?.http || null;
      return {
        ok: false,
        reason: 'not-leader',
        message: 'not the leader',
        leaderHint: hint,
        leaderHttp: http,
      };
    }
    return { ok: false, reason: outcome.reason, message: outcome.message };
  }
}
