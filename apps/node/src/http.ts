import { createServer, type Server } from 'node:http';
import type { Address } from './config.js';
import type { MemberStatus } from './Member.js';
import type { NodeMetrics } from './metrics.js';

export interface HttpServer {
  close(): Promise<void>;
}

interface StatusSource {
  status(): MemberStatus;
  refreshMetrics(): void;
}

/** `/metrics` (Prometheus text), `/status` (JSON) and `/healthz` (200 once a leader is known). */
export function startHttp(at: Address, member: StatusSource, metrics: NodeMetrics): Promise<HttpServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(member.status())}\n`);
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
        .end('not found: try /status, /metrics or /healthz\n');
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
