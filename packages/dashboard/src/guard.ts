import type { IncomingMessage } from 'node:http';

/** The header the page sends its per-run token in (a custom header: another site cannot set it without a CORS preflight we never grant). */
export const TOKEN_HEADER = 'x-keel-dashboard-token';

/**
 * Why a request that changes something is refused, or null to let it through. Three checks, each
 * enough on its own against a page of another site in the same browser (CSRF):
 * - Host names this server (a DNS-rebinding page would send its own name);
 * - Origin, when the browser sends one, is this server;
 * - the per-run token, which only the page this server served knows.
 */
export function refusal(req: IncomingMessage, token: string, hosts: ReadonlySet<string>): string | null {
  const host = req.headers.host ?? '';
  if (!hosts.has(host)) return `unexpected Host '${host}'`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) return `cross-origin request from '${origin}'`;
  if (req.headers[TOKEN_HEADER] !== token) return 'missing or wrong dashboard token';
  return null;
}

/** The Host header values this server answers to: its address and, on loopback, `localhost`. */
export function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set([host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`]);
  if (host === '127.0.0.1' || host === '::1' || host === 'localhost') {
    names.add(`localhost:${port}`);
    names.add(`127.0.0.1:${port}`);
    names.add(`[::1]:${port}`);
  }
  return names;
}
