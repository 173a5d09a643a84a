let adminToken: string | null = null;

/**
 * The bearer token sent with every admin request from now on (a member started with
 * `--admin-token-file` answers 401 without it), or null for none. One per process: the CLI and the
 * tools talk to one cluster at a time.
 */
export function useAdminToken(token: string | null): void {
  adminToken = token;
}

/** The `authorization` header of admin requests, if a token is in use. */
export function adminHeaders(): Record<string, string> {
  return adminToken === null ? {} : { authorization: `Bearer ${adminToken}` };
}

/**
 * The client side of a member's HTTP admin API (`/status`, `/members`, ...): one JSON request,
 * `GET`, or `POST` with `body`. Answers the status and parsed reply, or null when the member did
 * not answer within `timeoutMs` or the reply is not JSON. The CLI and the tools share it, so the
 * API's client lives beside its server.
 */
export async function adminJson<T>(
  endpoint: string,
  path: string,
  timeoutMs: number,
  body?: unknown,
): Promise<{ status: number; json: T } | null> {
  try {
    const res = await fetch(`http://${endpoint}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined
        ? { headers: adminHeaders() }
        : { body: JSON.stringify(body), headers: { ...adminHeaders(), 'content-type': 'application/json' } }),
      // AbortSignal.timeout throws on a fractional delay (a deadline minus performance.now()).
      signal: AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))),
    });
    return { status: res.status, json: (await res.json()) as T };
  } catch {
    return null;
  }
}
