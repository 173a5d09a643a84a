import type { DeadlineSource, LeaderDeadlines } from '@keel/core';
import { encodeEntry } from './commands.js';
import type { KvStateMachine } from './KvStateMachine.js';
import type { LeaseLeaderCommand } from './leaseCommands.js';
import type { KvResult } from './results.js';

/**
 * The leases as the member's leader deadlines (`@keel/server` LeaseTimers): each lease id with its
 * TTL, followed through the state machine's lease events; an expiry is a `leaseExpire` entry.
 */
export const leaseDeadlines: DeadlineSource<KvStateMachine> = {
  all: (sm) => sm.leases().leases.map((l) => [l.id, l.ttlSeconds * 1000] as const),
  follow: (sm, on) =>
    sm.onLeases({
      granted: (id, ttlSeconds) => on.armed(id, ttlSeconds * 1000),
      removed: (id) => on.dropped(id),
      reset: () => on.reset(),
    }),
  expire: (id, time) => encodeEntry({ time, command: { type: 'leaseExpire', id } }).slice(),
};

/**
 * A keep-alive or time-to-live, on the leader once it confirmed it leads and applied that far:
 * the lease from the applied state, its deadline from the leader's timers.
 */
export function serveLeaseRequest(
  sm: KvStateMachine,
  cmd: LeaseLeaderCommand,
  deadlines: LeaderDeadlines,
): KvResult {
  const lease = sm.lease(cmd.id);
  if (lease === null) {
    return {
      ok: false,
      code: 'lease-not-found',
      message: `lease ${cmd.id} does not exist (revoked or expired)`,
    };
  }
  const ttlMs = lease.ttlSeconds * 1000;
  if (cmd.type === 'leaseKeepAlive') {
    deadlines.extend(cmd.id, ttlMs);
    return { ok: true, type: 'leaseKeepAlive', id: cmd.id, ttlSeconds: lease.ttlSeconds };
  }
  const base = {
    ok: true,
    type: 'leaseTimeToLive',
    id: cmd.id,
    grantedTtlSeconds: lease.ttlSeconds,
    remainingMs: deadlines.remaining(cmd.id) ?? ttlMs,
  } as const;
  return cmd.keys ? { ...base, keys: lease.keys } : base;
}
