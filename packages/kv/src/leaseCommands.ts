/**
 * The lease commands and their binary form (type codes 12-17 of commands.ts):
 *
 *   leaseGrant       flags:u8 [session]  ttlSeconds:varint         flags: 0x01 session
 *   leaseRevoke      flags:u8 [session]  id:varint                 flags: 0x01 session
 *   leaseExpire      id:varint                                     (proposed by the leader only)
 *   leaseKeepAlive   id:varint                                     (served by the leader, never logged)
 *   leaseTimeToLive  flags:u8  id:varint                           flags: 0x01 list the keys
 *   leaseList        (empty)                                       (a read of the applied state)
 *
 * Time never enters the state machine: a lease there is an id, a TTL and its keys. The leader keeps
 * the deadlines (packages/server LeaseTimers) and proposes `leaseExpire` when one passes, so
 * every member deletes the same keys at the same entry.
 */
import { DecodeErrorReason, type Reader, type Writer } from '@keel/core/codec';
import type { SessionRef } from './commands.js';

/**
 * Shortest TTL granted: an election (at most a few election timeouts of a second or so) must not be
 * able to use up a lease, because the new leader re-arms every lease with its full TTL only once it
 * leads. A fixed 2 s, not derived from the election timeout, since it is replicated semantics: every
 * member must validate grants alike, whatever its own timing flags.
 */
export const MIN_LEASE_TTL_SECONDS = 2;
/** Longest TTL granted (about 285 years; keeps `ttl * 1000` far inside the safe integers). */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000;

export type LeaseGrantCommand = {
  readonly type: 'leaseGrant';
  readonly ttlSeconds: number;
  readonly session?: SessionRef;
};
/** Deletes every key attached to the lease at one new revision, and drops the lease. */
export type LeaseRevokeCommand = {
  readonly type: 'leaseRevoke';
  readonly id: number;
  readonly session?: SessionRef;
};
/** `leaseRevoke` decided by the leader's clock (counted as an expiry). */
export type LeaseExpireCommand = { readonly type: 'leaseExpire'; readonly id: number };
export type LeaseKeepAliveCommand = { readonly type: 'leaseKeepAlive'; readonly id: number };
export type LeaseTimeToLiveCommand = {
  readonly type: 'leaseTimeToLive';
  readonly id: number;
  readonly keys: boolean;
};
export type LeaseListCommand = { readonly type: 'leaseList' };

export type LeaseWriteCommand = LeaseGrantCommand | LeaseRevokeCommand;
/** Served by the leader from its deadlines after a ReadIndex round; never in the log. */
export type LeaseLeaderCommand = LeaseKeepAliveCommand | LeaseTimeToLiveCommand;
export type LeaseCommand = LeaseWriteCommand | LeaseExpireCommand | LeaseLeaderCommand | LeaseListCommand;

export const LeaseCommandCode = {
  leaseGrant: 12,
  leaseRevoke: 13,
  leaseExpire: 14,
  leaseKeepAlive: 15,
  leaseTimeToLive: 16,
  leaseList: 17,
} as const;

export function isLeaseId(id: number): boolean {
  return Number.isSafeInteger(id) && id > 0;
}

/** What is wrong with a lease command's arguments, or null. */
export function leaseProblem(cmd: LeaseCommand): string | null {
  if (cmd.type === 'leaseList') return null;
  if (cmd.type === 'leaseGrant') {
    const t = cmd.ttlSeconds;
    if (!(Number.isSafeInteger(t) && t >= MIN_LEASE_TTL_SECONDS && t <= MAX_LEASE_TTL_SECONDS)) {
      return `lease TTL ${t} s is not a whole number of seconds in ${MIN_LEASE_TTL_SECONDS}..${MAX_LEASE_TTL_SECONDS}`;
    }
    return null;
  }
  return isLeaseId(cmd.id) ? null : `lease id ${cmd.id} is not a positive integer`;
}

/** Writes the body of a lease command (type byte written by commands.ts). */
export function writeLeaseBody(
  w: Writer,
  cmd: LeaseCommand,
  writeSession: (w: Writer, s: SessionRef) => void,
): void {
  switch (cmd.type) {
    case 'leaseGrant':
    case 'leaseRevoke':
      w.u8(cmd.session === undefined ? 0 : 1);
      if (cmd.session !== undefined) writeSession(w, cmd.session);
      w.varint(cmd.type === 'leaseGrant' ? cmd.ttlSeconds : cmd.id);
      return;
    case 'leaseTimeToLive':
      w.u8(cmd.keys ? 1 : 0);
      w.varint(cmd.id);
      return;
    case 'leaseExpire':
    case 'leaseKeepAlive':
      w.varint(cmd.id);
      return;
    case 'leaseList':
      return;
  }
}

function readId(r: Reader): number {
  const id = r.varint();
  if (id === 0) r.fail(DecodeErrorReason.Malformed, 'lease id 0');
  return id;
}

function readFlag(r: Reader): number {
  const f = r.u8();
  if (f > 1) r.fail(DecodeErrorReason.Malformed, `unknown flag bits 0x${f.toString(16)}`);
  return f;
}

export function readLeaseBody(r: Reader, code: number, readSession: (r: Reader) => SessionRef): LeaseCommand {
  switch (code) {
    case LeaseCommandCode.leaseGrant:
    case LeaseCommandCode.leaseRevoke: {
      const session = readFlag(r) === 1 ? readSession(r) : undefined;
      const n = r.varint();
      const cmd: LeaseWriteCommand =
        code === LeaseCommandCode.leaseGrant
          ? { type: 'leaseGrant', ttlSeconds: n }
          : { type: 'leaseRevoke', id: n };
      if (cmd.type === 'leaseRevoke' && n === 0) r.fail(DecodeErrorReason.Malformed, 'lease id 0');
      return session === undefined ? cmd : { ...cmd, session };
    }
    case LeaseCommandCode.leaseTimeToLive: {
      const keys = readFlag(r) === 1;
      return { type: 'leaseTimeToLive', id: readId(r), keys };
    }
    case LeaseCommandCode.leaseExpire:
      return { type: 'leaseExpire', id: readId(r) };
    case LeaseCommandCode.leaseKeepAlive:
      return { type: 'leaseKeepAlive', id: readId(r) };
    default:
      return { type: 'leaseList' };
  }
}
