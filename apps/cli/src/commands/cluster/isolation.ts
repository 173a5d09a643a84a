import { adminJson } from '@keel/ops';
import type { MemberRecord } from '../../cluster/ClusterFile.js';
import { ExitCode } from '../../io.js';
import { CommandError, type Context, liveMember, memberResult } from './context.js';

/** How long one admin request may take. */
const ADMIN_TIMEOUT_MS = 5000;

/** `POST /isolate` or `/heal` on the member's admin API; a refusal or silence is one line. */
async function setIsolation(ctx: Context, on: boolean): Promise<{ m: MemberRecord; host: string }> {
  const { file, m } = liveMember(ctx);
  const endpoint = `${file.host}:${m.ports.http}`;
  const reply = await adminJson<{ ok: boolean; message?: string }>(
    endpoint,
    on ? '/isolate' : '/heal',
    ADMIN_TIMEOUT_MS,
    {},
  );
  if (reply === null) {
    throw new CommandError(`member ${m.id} did not answer at ${endpoint}`, ExitCode.Failure);
  }
  if (reply.status === 403) {
    throw new CommandError(
      `member ${m.id} was started without --fault-injection (a cluster from before it); restart it with '${ctx.hint(`cluster restart ${m.id}`)}' after upgrading`,
      ExitCode.Failure,
    );
  }
  if (!reply.json.ok) {
    throw new CommandError(`member ${m.id} refused: ${reply.json.message ?? reply.status}`, ExitCode.Failure);
  }
  return { m, host: file.host };
}

/** `keel cluster isolate <id>`: the member keeps running but hears and reaches no peer. */
export async function isolate(ctx: Context): Promise<ExitCode> {
  const { m } = await setIsolation(ctx, true);
  return memberResult(
    ctx,
    m,
    'isolated',
    `${m.id} isolated from its peers (it still runs and answers clients); reconnect it with '${ctx.hint(`cluster heal ${m.id}`)}'`,
  );
}

/** `keel cluster heal <id>`: undoes `isolate`. */
export async function heal(ctx: Context): Promise<ExitCode> {
  const { m } = await setIsolation(ctx, false);
  return memberResult(ctx, m, 'healed', `${m.id} reconnected to its peers`);
}
