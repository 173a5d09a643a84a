import { describe, expect, it } from 'vitest';
import { checkLeases, type LeaseRecord } from '../src/leaseCheck.js';

const base: LeaseRecord = {
  id: 1,
  ttlMs: 2000,
  key: 'lease-1',
  granted: 0,
  keepAlives: [],
  stoppedAt: null,
  deletedAt: null,
  revokedAt: null,
};
const options = { boundMs: 1500, stableFrom: 0, endedAt: 60_000 };

describe('the chaos lease check', () => {
  it('passes a lease kept alive, then let go and deleted soon after its TTL', () => {
    const l: LeaseRecord = {
      ...base,
      keepAlives: [
        { sent: 500, answered: 510, ok: true },
        { sent: 1200, answered: null, ok: false },
        { sent: 1900, answered: 1905, ok: true },
      ],
      stoppedAt: 2000,
      deletedAt: 3905 + 300,
    };
    const r = checkLeases([l], options);
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({ ok: true, expired: 1, judged: 1, overrunMs: { p50: 300, p99: 300, max: 300 } });
  });

  it('fails a lease deleted while a keep-alive sent less than a TTL before had succeeded', () => {
    const l: LeaseRecord = {
      ...base,
      keepAlives: [{ sent: 1000, answered: 1010, ok: true }],
      deletedAt: 2500,
    };
    expect(checkLeases([l], options).problems[0]).toMatch(
      /deleted at 2\.500 s, before 3\.000 s — a keep-alive sent at 1\.000 s succeeded/,
    );
  });

  it('fails a keep-alive that succeeds after the key was deleted', () => {
    const l: LeaseRecord = {
      ...base,
      keepAlives: [{ sent: 5000, answered: 5010, ok: true }],
      deletedAt: 4000,
    };
    expect(checkLeases([l], options).problems.join('\n')).toMatch(
      /sent at 5\.000 s succeeded after its key was deleted/,
    );
  });

  it('fails a lease that outlives its deadline by more than the bound once a leader is stable, and only then', () => {
    const late: LeaseRecord = { ...base, stoppedAt: 100, deletedAt: 2000 + 1600 };
    expect(checkLeases([late], options).problems[0]).toMatch(/1600 ms after its deadline \(bound 1500 ms\)/);
    // The same overrun during faults (deadline before the heal) is measured, not judged.
    const r = checkLeases([late], { ...options, stableFrom: 10_000 });
    expect(r).toMatchObject({ ok: true, expired: 1, judged: 0, overrunMs: { max: 1600 } });
    const never: LeaseRecord = { ...base, stoppedAt: 100, deletedAt: null };
    expect(checkLeases([never], options).problems[0]).toMatch(/still there at the end/);
  });

  it("takes a revoke's delete as the revoke's", () => {
    const l: LeaseRecord = {
      ...base,
      keepAlives: [{ sent: 1000, answered: 1010, ok: true }],
      revokedAt: 1500,
      deletedAt: 1520,
    };
    expect(checkLeases([l], options).problems).toEqual([]);
  });
});
