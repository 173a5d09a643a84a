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
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      // AbortSignal.timeout throws on a fractional delay (a deadline minus performance.now()).
      signal: AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))),
    });
    return { status: res.status, json: (await res.json()) as T };
  } catch {
    return null;
  }
}
