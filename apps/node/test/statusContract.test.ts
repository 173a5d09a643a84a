import type { PeerStatus as ReadPeer, MemberStatus as ReadStatus } from '@keel/ops';
import type { MemberStatus as WrittenStatus } from '@keel/server';
import { describe, expectTypeOf, it } from 'vitest';

/**
 * `/status` is described twice on purpose: `@keel/server` writes it, `@keel/ops` reads it (ops
 * depends on no @keel package, so the CLI and tools can read members of any build). This test, in
 * the one app that depends on both, keeps the two descriptions the same document: `pnpm check`
 * (tsc) and vitest's type checks fail when a field is added, dropped or retyped on one side only.
 */
type WrittenPeer = WrittenStatus['peers'][number];

describe('/status: what the server writes is what the operations kit reads', () => {
  it('has the same fields', () => {
    expectTypeOf<keyof WrittenStatus>().toEqualTypeOf<keyof ReadStatus>();
    expectTypeOf<keyof WrittenPeer>().toEqualTypeOf<keyof ReadPeer>();
  });

  it('every document the server writes is one the readers accept', () => {
    expectTypeOf<WrittenStatus>().toExtend<ReadStatus>();
    expectTypeOf<WrittenPeer>().toExtend<ReadPeer>();
  });

  it('field types agree, member by member', () => {
    expectTypeOf<WrittenStatus['wal']>().toEqualTypeOf<ReadStatus['wal']>();
    expectTypeOf<WrittenStatus['stats']>().toEqualTypeOf<ReadStatus['stats']>();
    expectTypeOf<WrittenStatus['addresses']>().toEqualTypeOf<ReadStatus['addresses']>();
    expectTypeOf<WrittenStatus['conf']>().toEqualTypeOf<ReadStatus['conf']>();
    expectTypeOf<WrittenStatus['leader']>().toEqualTypeOf<ReadStatus['leader']>();
  });
});
