import { adminHeaders, adminJson } from './adminClient.js';
import { asMemberStatus, type MemberStatus } from './MemberStatus.js';

/**
 * A member's `/status` from its HTTP endpoint (`host:port`), or null when it does not answer in
 * time, answers an error, or answers something that is not a member status. `query` is passed
 * through (`?hash=1` asks for the state hash).
 */
export async function fetchStatus(http: string, timeoutMs = 500, query = ''): Promise<MemberStatus | null> {
  const r = await adminJson<unknown>(http, `/status${query}`, timeoutMs);
  return r === null || r.status !== 200 ? null : asMemberStatus(r.json);
}

/** A member's `/metrics` text (Prometheus exposition), or null when it does not answer. */
export async function fetchMetrics(http: string, timeoutMs = 1000): Promise<string | null> {
  try {
    const res = await fetch(`http://${http}/metrics`, {
      headers: adminHeaders(),
      signal: AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))),
    });
    return res.ok ? await res.text() : null;
  } catch {
    return null;
  }
}
