import {
  changeInEffect,
  decodeMemberAddresses,
  encodeMemberAddresses,
  learnerNotReady,
  MemberChangeProblem,
  PROMOTE_MAX_LAG,
  parseMemberChange,
  roleChangeReason,
} from '@keel/server';
import { describe, expect, it } from 'vitest';
import { parseNodeConfig } from '../src/config.js';

const base = [
  '--id',
  'n4',
  '--peers',
  'n1=127.0.0.1:7001,n4=127.0.0.1:7004',
  '--client-bind',
  '127.0.0.1:8004',
  '--data-dir',
  '/tmp/x',
];

describe('membership configuration of a member', () => {
  it('bootstraps by default, joins with --join, and snapshots every 10,000 entries keeping 5,000', () => {
    const c = parseNodeConfig(base);
    if (c === 'help') throw new Error('unexpected help');
    expect(c).toMatchObject({ join: false, snapshotEntries: 10_000, compactKeepEntries: 5_000 });
    const j = parseNodeConfig([...base, '--join', '--snapshot-entries', '0', '--compact-keep', '12']);
    if (j === 'help') throw new Error('unexpected help');
    expect(j).toMatchObject({ join: true, snapshotEntries: 0, compactKeepEntries: 12 });
    const env = parseNodeConfig(base, { KEEL_JOIN: 'true', KEEL_SNAPSHOT_ENTRIES: '500' });
    if (env === 'help') throw new Error('unexpected help');
    expect(env).toMatchObject({ join: true, snapshotEntries: 500 });
    expect(() => parseNodeConfig([...base, '--snapshot-entries', '1.5'])).toThrow(
      "--snapshot-entries must be an integer from 0 to 1000000000, got '1.5'",
    );
  });

  it('also snapshots by applied bytes: 64 MiB by default, a size with or without a unit', () => {
    const sizeOf = (v: string | undefined): number => {
      const c = parseNodeConfig(v === undefined ? base : [...base, '--snapshot-bytes', v]);
      if (c === 'help') throw new Error('unexpected help');
      return c.snapshotBytes;
    };
    expect(sizeOf(undefined)).toBe(64 * 1024 * 1024);
    expect(sizeOf('0')).toBe(0);
    expect(sizeOf('4096')).toBe(4096);
    expect(sizeOf('16KiB')).toBe(16 * 1024);
    expect(sizeOf('2GiB')).toBe(2 * 1024 ** 3);
    const env = parseNodeConfig(base, { KEEL_SNAPSHOT_BYTES: '1MiB' });
    if (env === 'help') throw new Error('unexpected help');
    expect(env.snapshotBytes).toBe(1024 * 1024);
    for (const bad of ['1.5MiB', '12 parsecs', 'MiB']) {
      expect(() => sizeOf(bad)).toThrow(
        `--snapshot-bytes must be a size in bytes, optionally with KiB, MiB or GiB (e.g. 64MiB), got '${bad}'`,
      );
    }
  });

  it("carries a member's three addresses through the configuration and reads foreign ones as a peer address", () => {
    const a = { peer: '10.0.0.4:7001', client: '10.0.0.4:7101', http: '' };
    expect(decodeMemberAddresses(encodeMemberAddresses(a))).toEqual(a);
    expect(decodeMemberAddresses('')).toEqual({ peer: '', client: '', http: '' });
    expect(decodeMemberAddresses('10.0.0.9:7001')).toEqual({ peer: '10.0.0.9:7001', client: '', http: '' });
    expect(decodeMemberAddresses('{"peer":5}')).toEqual({ peer: '', client: '', http: '' });
  });

  it('validates POST /members bodies with one line per mistake', () => {
    expect(parseMemberChange({ action: 'add', id: 'n4', peer: '127.0.0.1:7004', learner: true })).toEqual({
      action: 'add',
      id: 'n4',
      peer: '127.0.0.1:7004',
      learner: true,
    });
    expect(parseMemberChange({ action: 'remove', id: 'n2', peer: 'ignored' })).toEqual({
      action: 'remove',
      id: 'n2',
    });
    const problem = (body: unknown) => {
      const p = parseMemberChange(body);
      return p instanceof MemberChangeProblem ? `${p.code}: ${p.message}` : p;
    };
    expect(problem([])).toBe('KEEL_BAD_REQUEST: the body must be a JSON object');
    expect(problem({ action: 'grow', id: 'n4' })).toBe(
      'KEEL_BAD_REQUEST: action must be add, promote or remove, not "grow"',
    );
    const rule = 'is invalid: must be 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit';
    expect(problem({ action: 'promote', id: 'n 4' })).toBe(`KEEL_INVALID_MEMBER_ID: id "n 4" ${rule}`);
    expect(problem({ action: 'add', id: '__proto__', peer: 'h:1' })).toBe(
      `KEEL_INVALID_MEMBER_ID: id "__proto__" ${rule}`,
    );
    expect(problem({ action: 'remove', id: 7 })).toBe(`KEEL_INVALID_MEMBER_ID: id of type number ${rule}`);
    expect(problem(JSON.parse('{"action":"remove","__proto__":{"id":"n2"}}'))).toBe(
      `KEEL_INVALID_MEMBER_ID: id of type undefined ${rule}`,
    );
    expect(problem({ action: 'add', id: 'n4' })).toBe(
      "KEEL_BAD_REQUEST: add needs the new member's peer address as host:port",
    );
    expect(problem({ action: 'add', id: 'n4', peer: 'nowhere' })).toBe(
      "KEEL_BAD_REQUEST: add needs the new member's peer address as host:port",
    );
    expect(problem({ action: 'add', id: 'n4', peer: 'h:1', client: 'x' })).toBe(
      'KEEL_BAD_REQUEST: client must be host:port',
    );
    expect(problem({ action: 'add', id: 'n4', peer: 'h:1', learner: 'yes' })).toBe(
      'KEEL_BAD_REQUEST: learner must be true or false',
    );
    expect(problem({ action: 'add', id: 'toString', peer: 'h:1' })).toEqual({
      action: 'add',
      id: 'toString',
      peer: 'h:1',
    });
    expect(parseMemberChange({ action: 'promote', id: 'n4', force: true })).toEqual({
      action: 'promote',
      id: 'n4',
      force: true,
    });
    expect(parseMemberChange({ action: 'promote', id: 'n4', force: false })).toEqual({
      action: 'promote',
      id: 'n4',
    });
    expect(problem({ action: 'remove', id: 'n4', force: true })).toBe(
      'KEEL_BAD_REQUEST: force must be true or false, and only with promote',
    );
  });

  // etcd: "can only promote a learner member which is in sync with leader".
  it('refuses to promote a learner more than PROMOTE_MAX_LAG entries behind the leader, on the leader only', () => {
    const view = (learnerMatch: number | null, last = 5000, leader = 'n1') => ({
      id: 'n1',
      leader,
      members: [
        { id: 'n1', role: 'voter' as const, match: leader === 'n1' ? last : null },
        { id: 'n2', role: 'voter' as const, match: 4990 },
        { id: 'n4', role: 'learner' as const, match: learnerMatch },
      ],
    });
    expect(PROMOTE_MAX_LAG).toBe(1000);
    expect(learnerNotReady(view(100), 'n4')).toEqual({
      ok: false,
      reason: 'learner-not-ready',
      message:
        "learner n4 is 4900 entries behind the leader (match 100, leader's last index 5000); it can be promoted within 1000",
      behind: 4900,
    });
    expect(learnerNotReady(view(null), 'n4')?.behind).toBe(5000);
    expect(learnerNotReady(view(4000), 'n4')).toBeNull();
    expect(learnerNotReady(view(3999), 'n4')?.behind).toBe(1001);
    // Not the leader: it answers not-leader through the engine. Not a learner: the engine judges.
    expect(learnerNotReady(view(0, 5000, 'n2'), 'n4')).toBeNull();
    expect(learnerNotReady(view(0), 'n2')).toBeNull();
    expect(learnerNotReady(view(0), 'n9')).toBeNull();
  });
});

describe('role change reasons in the log', () => {
  const leader = { role: 'leader', term: 4, leader: 'n1' };
  const follower = { role: 'follower', term: 4, leader: null };

  it('a leader stepping down in its own term lost its quorum, unless it removed itself', () => {
    expect(roleChangeReason(leader, follower)).toBe('lost contact with a quorum (CheckQuorum)');
    expect(roleChangeReason(leader, follower, false)).toBe('removed from the configuration');
    expect(roleChangeReason(leader, { ...follower, term: 5 }, false)).toBe('saw higher term 5');
  });

  it('tells from a configuration whether a change took effect (an unknown outcome settled, never made twice)', () => {
    const view = {
      members: [
        { id: 'n1', role: 'voter' as const },
        { id: 'n4', role: 'learner' as const },
      ],
    };
    expect(changeInEffect(view, { action: 'remove', id: 'n2' })).toBe(true);
    expect(changeInEffect(view, { action: 'remove', id: 'n1' })).toBe(false);
    expect(changeInEffect(view, { action: 'promote', id: 'n4' })).toBe(false);
    expect(changeInEffect(view, { action: 'promote', id: 'n1' })).toBe(true);
    expect(changeInEffect(view, { action: 'add', id: 'n4' })).toBe(true); // as a learner, the default
    expect(changeInEffect(view, { action: 'add', id: 'n4', learner: false })).toBe(false); // not a voter yet
    expect(changeInEffect(view, { action: 'add', id: 'n5' })).toBe(false);
  });
});
