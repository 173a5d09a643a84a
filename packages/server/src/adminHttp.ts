import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Address } from './addresses.js';
import { readJsonBody } from './httpBody.js';
import { handleIsolation } from './isolateHttp.js';
import { handleLeaderPost, type LeaderSource } from './leaderHttp.js';
import {
  MemberChangeProblem,
  type MemberChangeReply,
  type MemberChangeRequest,
  type MembersView,
  parseMemberChange,
} from './membership.js';
import type { NodeMetrics } from './metrics.js';
import { type SnapshotSource, serveSnapshot } from './snapshotHttp.js';
import type { MemberStatus } from './status.js';

export interface AdminHttpServer {
  close(): Promise<void>;
}

/** What the admin API serves: the member handle. */
export interface StatusSource extends LeaderSource, SnapshotSource {
  status(withHash?: boolean): MemberStatus;
  refreshMetrics(): void;
  members(): MembersView;
  changeMembers(req: MemberChangeRequest): Promise<MemberChangeReply>;
  takeSnapshot(): boolean;
  isolate(on: boolean): void;
}

/** Compares digests, so neither the token's length nor its content shows in the timing. */
function bearerCheck(token: string): (header: string | undefined) => boolean {
  const want = createHash('sha256').update(token).digest();
  return (header) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (m === null) return false;
    return timingSafeEqual(createHash('sha256').update(m[1]!).digest(), want);
  };
}

/** Largest `POST /members` body read. */
const MAX_BODY = 4096;

/** HTTP status for each refusal of a membership change. */
function changeStatus(reply: MemberChangeReply): number {
  if (reply.ok) return 200;
  switch (reply.reason) {
    case 'bad-request':
    case 'invalid-conf-change':
      return 400;
    case 'not-leader':
      return 421;
    case 'conf-change-pending':
    case 'term-not-committed':
    case 'learner-not-ready':
      return 409;
    default:
      return 503;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}

function handleMembersPost(req: IncomingMessage, res: ServerResponse, member: StatusSource): void {
  readJsonBody(req, res, MAX_BODY, (body) => {
    const parsed = parseMemberChange(body);
    if (parsed instanceof MemberChangeProblem) {
      json(res, 400, { ok: false, reason: 'bad-request', code: parsed.code, message: parsed.message });
      return;
    }
    member.changeMembers(parsed).then(
      (reply) => json(res, changeStatus(reply), reply),
      (err: Error) => json(res, 500, { ok: false, reason: 'internal', message: err.message }),
    );
  });
}

/**
 * `/metrics` (Prometheus text), `/status` (JSON), `/healthz` (200 once a leader is known) and
 * `/members` (GET: the configuration; POST: one membership change, on the leader), and
 * `POST /snapshot` (snapshot the store now; 202 started, 409 nothing new or one under way). With
 * `token`, every path but `/healthz` (for load balancers and probes) answers 401 unless the request
 * carries `Authorization: Bearer <token>`; without one the endpoint is unauthenticated: bind it to
 * loopback or a private network.
 */
export function startAdminHttp(
  at: Address,
  member: StatusSource,
  metrics: NodeMetrics,
  token: string | null = null,
  faultInjection = false,
): Promise<AdminHttpServer> {
  const authorized = token === null ? () => true : bearerCheck(token);
  const server: Server = createServer((req, res) => {
    const [path, query = ''] = (req.url ?? '/').split('?');
    if (path !== '/healthz' && !authorized(req.headers.authorization)) {
      res
        .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="keel"' })
        .end(
          req.headers.authorization === undefined
            ? 'unauthorized: this member needs "Authorization: Bearer <token>" (the token of its --admin-token-file)\n'
            : 'unauthorized: wrong admin token\n',
        );
      return;
    }
    if (path === '/members' && req.method === 'POST') {
      handleMembersPost(req, res, member);
      return;
    }
    // For operators: leadership transfer (leaderHttp.ts) and backups (snapshotHttp.ts).
    if (path === '/leader' && req.method === 'POST') {
      handleLeaderPost(req, res, member);
      return;
    }
    if (path === '/snapshot' && req.method === 'GET') {
      const fresh = new URLSearchParams(query).get('fresh') === '1';
      serveSnapshot(res, member, fresh).catch((err: Error) => {
        if (!res.headersSent) res.writeHead(500).end(`${err.message}\n`);
        else res.destroy(err);
      });
      return;
    }
    // Fault injection (isolateHttp.ts): only when the member was started with it.
    if ((path === '/isolate' || path === '/heal') && req.method === 'POST') {
      handleIsolation(res, member, faultInjection, path === '/isolate');
      return;
    }
    if (path === '/snapshot' && req.method === 'POST') {
      const ok = member.takeSnapshot();
      json(
        res,
        ok ? 202 : 409,
        ok ? { ok } : { ok, message: 'nothing new to snapshot, or a snapshot is under way' },
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/members') {
      json(res, 200, member.members());
    } else if (path === '/status') {
      const withHash = new URLSearchParams(query).get('hash') === '1';
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(`${JSON.stringify(member.status(withHash))}\n`);
    } else if (path === '/healthz') {
      const s = member.status();
      const ok = s.leader !== null;
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' })
        .end(
          ok ? `ok: ${s.role}, leader ${s.leader}, term ${s.term}\n` : `no leader known (term ${s.term})\n`,
        );
    } else if (path === '/metrics') {
      member.refreshMetrics();
      metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(`${err.message}\n`),
      );
    } else {
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('not found: try /status, /metrics, /healthz, /members or /snapshot\n');
    }
  });
  server.keepAliveTimeout = 1000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve({
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
