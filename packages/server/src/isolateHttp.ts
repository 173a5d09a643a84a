import type { ServerResponse } from 'node:http';

/** What `POST /isolate` and `POST /heal` act on. */
export interface IsolationTarget {
  isolate(on: boolean): void;
}

/**
 * `POST /isolate` cuts the member off from every peer (both ways; clients still reach it) and
 * `POST /heal` undoes it: 200 `{ ok, isolated }`. Refused with 403 unless the member was started
 * with fault injection (`keel node --fault-injection`, which `keel cluster up` passes).
 */
export function handleIsolation(
  res: ServerResponse,
  member: IsolationTarget,
  allowed: boolean,
  on: boolean,
): void {
  if (!allowed) {
    res.writeHead(403, { 'content-type': 'application/json' }).end(
      `${JSON.stringify({
        ok: false,
        message:
          'fault injection is off on this member: start it with --fault-injection to isolate or heal it',
      })}\n`,
    );
    return;
  }
  member.isolate(on);
  res
    .writeHead(200, { 'content-type': 'application/json' })
    .end(`${JSON.stringify({ ok: true, isolated: on })}\n`);
}
