/**
 * Results of the lease commands and their binary form (tags 0x0b-0x0f of results.ts):
 *
 *   0x0b leaseGrant       id:varint  ttlSeconds:varint
 *   0x0c leaseRevoke      revoked:u8  revision:varint
 *   0x0d leaseKeepAlive   id:varint  ttlSeconds:varint
 *   0x0e leaseTimeToLive  id:varint  grantedTtlSeconds:varint  remainingMs:varint  hasKeys:u8  [count:varint key*]
 *   0x0f leaseList        count:varint  (id:varint ttlSeconds:varint)*
 */
import { DecodeErrorReason, type Reader, type Writer } from '@keel/core/codec';
import type { KvLimits } from './limits.js';

/** A lease granted or renewed: its id and TTL (what `grantLease` and `keepAliveOnce` return). */
export interface LeaseGrant {
  readonly id: number;
  readonly ttlSeconds: number;
}

export type LeaseGrantResult = { readonly ok: true; readonly type: 'leaseGrant' } & LeaseGrant;
export type LeaseKeepAliveResult = { readonly ok: true; readonly type: 'leaseKeepAlive' } & LeaseGrant;
export type LeaseRevokeResult = {
  readonly ok: true;
  readonly type: 'leaseRevoke';
  /** False when no such lease existed (nothing was deleted). */
  readonly revoked: boolean;
  /** The revision of the deletes (the store's revision when nothing was deleted). */
  readonly revision: number;
};
export type LeaseTimeToLiveResult = {
  readonly ok: true;
  readonly type: 'leaseTimeToLive';
  readonly id: number;
  readonly grantedTtlSeconds: number;
  /** Time left before the leader expires the lease, as the leader sees it. */
  readonly remainingMs: number;
  /** The attached keys, in byte order, when asked for. */
  readonly keys?: readonly Uint8Array[];
};
export type LeaseListResult = {
  readonly ok: true;
  readonly type: 'leaseList';
  readonly leases: readonly LeaseGrant[];
};

export type LeaseResult =
  | LeaseGrantResult
  | LeaseRevokeResult
  | LeaseKeepAliveResult
  | LeaseTimeToLiveResult
  | LeaseListResult;

export const LeaseResultTag = {
  leaseGrant: 0x0b,
  leaseRevoke: 0x0c,
  leaseKeepAlive: 0x0d,
  leaseTimeToLive: 0x0e,
  leaseList: 0x0f,
} as const;

/** Writes a lease result's body (the tag is written by results.ts). */
export function writeLeaseResult(w: Writer, result: LeaseResult): void {
  switch (result.type) {
    case 'leaseGrant':
    case 'leaseKeepAlive':
      w.varint(result.id);
      w.varint(result.ttlSeconds);
      return;
    case 'leaseRevoke':
      w.u8(result.revoked ? 1 : 0);
      w.varint(result.revision);
      return;
    case 'leaseTimeToLive':
      w.varint(result.id);
      w.varint(result.grantedTtlSeconds);
      w.varint(result.remainingMs);
      w.u8(result.keys === undefined ? 0 : 1);
      if (result.keys !== undefined) {
        w.varint(result.keys.length);
        for (const k of result.keys) w.lenBytes(k);
      }
      return;
    case 'leaseList':
      w.varint(result.leases.length);
      for (const l of result.leases) {
        w.varint(l.id);
        w.varint(l.ttlSeconds);
      }
      return;
  }
}

function flag(r: Reader): boolean {
  const b = r.u8();
  if (b > 1) r.fail(DecodeErrorReason.Malformed, `boolean ${b}`);
  return b === 1;
}

export function readLeaseResult(r: Reader, tag: number, limits: KvLimits): LeaseResult {
  switch (tag) {
    case LeaseResultTag.leaseGrant:
    case LeaseResultTag.leaseKeepAlive: {
      const id = r.varint();
      const ttlSeconds = r.varint();
      return {
        ok: true,
        type: tag === LeaseResultTag.leaseGrant ? 'leaseGrant' : 'leaseKeepAlive',
        id,
        ttlSeconds,
      };
    }
    case LeaseResultTag.leaseRevoke: {
      const revoked = flag(r);
      return { ok: true, type: 'leaseRevoke', revoked, revision: r.varint() };
    }
    case LeaseResultTag.leaseTimeToLive: {
      const id = r.varint();
      const grantedTtlSeconds = r.varint();
      const remainingMs = r.varint();
      const base = { ok: true, type: 'leaseTimeToLive', id, grantedTtlSeconds, remainingMs } as const;
      if (!flag(r)) return base;
      const n = r.count(r.remaining, 'lease key count');
      const keys: Uint8Array[] = [];
      for (let i = 0; i < n; i++) keys.push(r.lenBytes(limits.maxKeyBytes).slice());
      return { ...base, keys };
    }
    default: {
      const n = r.count(r.remaining, 'lease count');
      const leases: LeaseGrant[] = [];
      for (let i = 0; i < n; i++) leases.push({ id: r.varint(), ttlSeconds: r.varint() });
      return { ok: true, type: 'leaseList', leases };
    }
  }
}
