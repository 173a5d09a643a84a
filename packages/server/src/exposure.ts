import type { Logger } from 'pino';
import { type Address, hostPort } from './addresses.js';

/** Loopback hosts: an admin API bound there is reachable from this machine only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/**
 * The startup warnings of what a member leaves open: traffic without CURVE keys (once, here,
 * instead of once per endpoint), and an admin HTTP API reachable beyond this host.
 */
export function warnExposure(
  log: Logger,
  http: Address | null,
  secure: boolean,
  token: boolean,
  insecureHint: string | undefined,
): void {
  if (!secure) {
    const hint = insecureHint ?? 'give the member CURVE keys (the `curve` option)';
    log.warn(`peer and client traffic is unauthenticated and unencrypted: ${hint}`);
  }
  if (http === null || isLoopback(http.host)) return;
  if (token)
    log.warn(
      { http: hostPort(http) },
      `admin HTTP on ${hostPort(http)} is exposed beyond this host (token required)`,
    );
  else
    log.warn(
      { http: hostPort(http) },
      `admin HTTP on ${hostPort(http)} is exposed beyond this host without a token: anyone who reaches it can change the membership`,
    );
}
