import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeId, TransferResult } from '@keel/core';
import { readJsonBody } from './httpBody.js';

/** What `POST /leader` needs of the member. */
export interface LeaderSource {
  transfer(to: NodeId): TransferResult;
}

/** Largest `POST /leader` body read. */
const MAX_BODY = 1024;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}

/**
 * `POST /leader` with `{"to": "<id>"}`: the leader starts handing leadership to that voter
 * (dissertation §3.10) and answers 202 at once; the transfer shows in `/status` within an election
 * timeout (or is abandoned after one, the old leader then accepting proposals again). Refusals:
 * 421 `not-leader` with `leaderHint` (ask that member), 400 `unknown-member` (no such voter: a
 * learner cannot lead) or `bad-request`.
 */
export function handleLeaderPost(req: IncomingMessage, res: ServerResponse, member: LeaderSource): void {
  readJsonBody(req, res, MAX_BODY, (body) => {
    const to = (body as { to?: unknown } | null)?.to;
    if (typeof to !== 'string' || to === '') {
      json(res, 400, { ok: false, reason: 'bad-request', message: 'the body must be {"to": "<member id>"}' });
      return;
    }
    const r = member.transfer(to);
    if (r.ok) json(res, 202, { ok: true, to });
    else if (r.reason === 'not-leader') json(res, 421, r);
    else json(res, 400, r);
  });
}
