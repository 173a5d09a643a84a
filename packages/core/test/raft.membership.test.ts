import { describe, expect, it } from 'vitest';
import { applyConfChange, confOf, decodeConfEntry, encodeConfEntry } from '../src/raft/confChange.js';
import { Raft } from '../src/raft/Raft.js';
import { SeededRng } from '../src/raft/rng.js';
import { type ConfChange, EntryType } from '../src/raft/types.js';
import { MemoryLogStore } from '../src/testing/MemoryLogStore.js';
import { TestCluster } from './helpers/cluster.js';

/** {a, b, c} with a leading and its no-op committed. */
function threeNodes(extra = {}): TestCluster {
  const c = new TestCluster(['a', 'b', 'c'], extra);
  c.elect('a');
  return c;
}

function change(c: TestCluster, id: string, cc: ConfChange) {
  const r = c.raft(id).proposeConfChange(cc);
  c.flush();
  return r;
}

describe('dissertation §4.1: single-server membership changes', () => {
  it('a learner joins in join mode, catches up, is promoted, and then counts', () => {
    const c = threeNodes();
    c.propose('a', 'before');
    c.deliverAll();
    const d = c.join('d');
    expect(d.raft.conf()).toEqual({ voters: [], learners: [], addresses: new Map() });
    expect(change(c, 'a', { type: 'addLearner', id: 'd', address: 'tcp://d:1' })).toEqual({
      ok: true,
      index: 3,
      term: 1,
    });
    // It takes effect on the leader at once (when appended), before it commits.
    expect(c.raft('a').conf()).toEqual(confOf(['a', 'b', 'c'], ['d'], new Map([['d', 'tcp://d:1']])));
    c.deliverAll();
    c.tick('a', 1);
    c.deliverAll();
    expect(c.terms('d')).toEqual(c.terms('a'));
    expect(d.raft.conf().learners).toEqual(['d']);
    expect(c.appliedData('d')).toEqual(['before']);
    expect(change(c, 'a', { type: 'promote', id: 'd' }).ok).toBe(true);
    c.deliverAll();
    expect(d.raft.conf().voters).toEqual(['a', 'b', 'c', 'd']);
    expect(d.raft.promotable()).toBe(true);
    // Four voters: a quorum is three, so with b and c cut off nothing commits.
    c.isolate('b');
    c.isolate('c');
    const r = c.propose('a', 'needs three');
    c.deliverAll();
    expect(r.ok).toBe(true);
    expect(c.raft('a').log.committed).toBeLessThan(c.raft('a').log.lastIndex());
  });

  it('a learner never counts toward commit or elections and never campaigns', () => {
    const c = threeNodes();
    c.join('d');
    change(c, 'a', { type: 'addLearner', id: 'd' });
    c.deliverAll();
    c.isolate('b');
    c.isolate('c');
    c.propose('a', 'x');
    c.deliverAll();
    // a and d hold it (two of four members) but only one of three voters: not committed.
    expect(c.raft('d').log.lastIndex()).toBe(c.raft('a').log.lastIndex());
    expect(c.raft('a').log.committed).toBe(2);
    // The learner never campaigns, however long it hears nothing.
    c.isolate('d');
    c.tick('d', 100);
    expect(c.log.filter((m) => m.from === 'd' && (m.type === 'preVote' || m.type === 'vote'))).toEqual([]);
    expect(c.raft('d').role).toBe('follower');
    // Its vote never counts: b, cut off from a and c, gets d's grant and still cannot win.
    c.isolate('b');
    const b = c.raft('b');
    b.campaign();
    c.flush();
    expect(b.role).toBe('pre-candidate');
    b.step({ type: 'preVoteResp', from: 'd', to: 'b', term: b.term + 1, reject: false });
    c.flush();
    expect(b.role).toBe('pre-candidate');
  });

  it('a learner answers vote requests (it may have been promoted unawares); only voters count them', () => {
    // A learner that heard from no leader grants an up-to-date candidate, like any member would.
    const store = new MemoryLogStore();
    const l = new Raft({ id: 'l', voters: [], rng: new SeededRng(2) }, store);
    l.ready();
    l.step({ type: 'preVote', from: 'b', to: 'l', term: 1, lastIndex: 5, lastTerm: 1, transfer: false });
    const rd = l.ready()!;
    expect(rd.messages).toEqual([{ type: 'preVoteResp', from: 'l', to: 'b', term: 1, reject: false }]);
    // A stranger whose log is behind ours is ignored outright: it cannot raise our term.
    const c = threeNodes();
    c.propose('a', 'x');
    c.deliverAll();
    const a = c.raft('b');
    a.step({ type: 'vote', from: 'zz', to: 'b', term: 9, lastIndex: 1, lastTerm: 1, transfer: false });
    expect(a.term).toBe(1);
  });

  it('a second change is refused while the first is uncommitted', () => {
    const c = threeNodes();
    c.isolate('b');
    c.isolate('c');
    expect(change(c, 'a', { type: 'addLearner', id: 'd' }).ok).toBe(true);
    expect(change(c, 'a', { type: 'addLearner', id: 'e' })).toMatchObject({
      ok: false,
      reason: 'conf-change-pending',
    });
    c.heal();
    c.deliverAll();
    c.tick('a', 1);
    c.deliverAll();
    expect(change(c, 'a', { type: 'addLearner', id: 'e' }).ok).toBe(true);
  });

  it('a new leader accepts no change before it commits an entry of its own term (the §4.1 fix)', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.isolate('a');
    c.cut.delete('b->a');
    c.raft('a').campaign();
    // a wins with b's vote but its no-op cannot reach anyone yet.
    c.cut.delete('a->b');
    c.deliverAll((m) => m.type !== 'app');
    expect(c.raft('a').role).toBe('leader');
    expect(change(c, 'a', { type: 'addLearner', id: 'd' })).toMatchObject({
      ok: false,
      reason: 'term-not-committed',
    });
    c.tick('a', 1); // the heartbeat's answer makes a resend the no-op it lost
    c.deliverAll();
    expect(c.raft('a').log.committed).toBe(1);
    expect(change(c, 'a', { type: 'addLearner', id: 'd' }).ok).toBe(true);
  });

  it('invalid changes are refused with a reason, and followers refuse with not-leader', () => {
    const c = threeNodes();
    const invalid = (cc: ConfChange) => change(c, 'a', cc);
    expect(invalid({ type: 'remove', id: 'zz' })).toMatchObject({ reason: 'invalid-conf-change' });
    expect(invalid({ type: 'promote', id: 'b' })).toMatchObject({
      reason: 'invalid-conf-change',
      message: "'b' is already a voter",
    });
    expect(invalid({ type: 'addLearner', id: 'c' })).toMatchObject({ reason: 'invalid-conf-change' });
    expect(invalid({ type: 'promote', id: 'zz' })).toMatchObject({ reason: 'invalid-conf-change' });
    expect(invalid({ type: 'addVoter', id: 'bad id!' })).toMatchObject({ reason: 'invalid-conf-change' });
    expect(change(c, 'b', { type: 'addLearner', id: 'd' })).toEqual({
      ok: false,
      reason: 'not-leader',
      leaderHint: 'a',
    });
    const solo = new Raft({ id: 's', voters: ['s'], rng: new SeededRng(1) }, new MemoryLogStore());
    expect(applyConfChange(solo.conf(), { type: 'remove', id: 's' })).toBe("'s' is the last voter");
  });

  it('transferring leadership to a learner is refused', () => {
    const c = threeNodes();
    c.join('d');
    change(c, 'a', { type: 'addLearner', id: 'd' });
    c.deliverAll();
    expect(c.raft('a').transferLeader('d')).toMatchObject({ ok: false, reason: 'unknown-member' });
  });

  it('a removed leader keeps replicating until the change commits, then steps down and never campaigns', () => {
    const c = threeNodes();
    c.isolate('b');
    c.isolate('c');
    expect(change(c, 'a', { type: 'remove', id: 'a' }).ok).toBe(true);
    const a = c.raft('a');
    expect(a.promotable()).toBe(false);
    expect(a.role).toBe('leader'); // still leading: the change is not committed
    c.heal();
    c.deliverAll();
    c.tick('a', 1);
    c.deliverAll();
    expect(a.role).toBe('follower');
    // It handed over to an up-to-date voter with TimeoutNow, which won without waiting.
    const next = c.leader();
    expect(next === 'b' || next === 'c').toBe(true);
    expect(c.raft(next!).conf().voters).toEqual(['b', 'c']);
    c.isolate('a');
    const sent = c.log.length;
    c.tick('a', 100);
    expect(a.role).toBe('follower');
    expect(c.log.slice(sent).filter((m) => m.from === 'a')).toEqual([]);
  });

  it('an uncommitted configuration is rolled back when its entry is truncated', () => {
    const c = threeNodes();
    c.isolate('a');
    expect(change(c, 'a', { type: 'addLearner', id: 'd' }).ok).toBe(true);
    expect(c.raft('a').conf().learners).toEqual(['d']);
    // b or c leads term 2 and writes over a's uncommitted entry.
    for (let i = 0; i < 30; i++) {
      c.raft('b').tick();
      c.raft('c').tick();
      c.deliverAll();
    }
    expect(c.leader()).not.toBe('a');
    const leader = c.leader()!;
    c.propose(leader, 'y');
    c.deliverAll();
    const confs: unknown[] = [];
    c.heal();
    c.tick(leader, 1);
    c.deliverAll();
    for (const rd of c.node('a').readys) if (rd.conf !== null) confs.push(rd.conf);
    expect(c.terms('a')).toEqual(c.terms(leader));
    expect(c.raft('a').conf()).toEqual(confOf(['a', 'b', 'c']));
    // Its Readys announced d's arrival, then the rollback.
    expect(confs.at(-2)).toEqual(confOf(['a', 'b', 'c'], ['d']));
    expect(confs.at(-1)).toEqual(confOf(['a', 'b', 'c']));
  });

  it('a removed member that keeps campaigning does not raise the cluster term (no PreVote)', () => {
    const c = threeNodes({ preVote: false });
    change(c, 'a', { type: 'remove', id: 'c' });
    // c never receives the removal: it times out again and again and asks for votes.
    c.isolate('c');
    c.cut.delete('c->a');
    c.cut.delete('c->b');
    c.deliverAll();
    c.tick('a', 1);
    c.deliverAll();
    expect(c.raft('a').conf().voters).toEqual(['a', 'b']);
    expect(c.raft('a').log.committed).toBe(2);
    for (let i = 0; i < 5; i++) {
      c.tick('c', 30);
      c.deliverAll();
    }
    expect(c.raft('c').term).toBeGreaterThan(3);
    expect(c.raft('a').term).toBe(1);
    expect(c.raft('b').term).toBe(1);
    expect(c.raft('a').role).toBe('leader');
  });

  it('a member that joins with no log, no snapshot and no voters never campaigns', () => {
    const r = new Raft({ id: 'j', voters: [], rng: new SeededRng(5) }, new MemoryLogStore());
    for (let i = 0; i < 200; i++) r.tick();
    const rd = r.ready()!;
    expect(rd.conf).toEqual({ voters: [], learners: [], addresses: new Map() });
    expect(rd.messages).toEqual([]);
    expect(r.role).toBe('follower');
    r.campaign();
    expect(r.ready()).toBeNull();
  });
});

describe('Config entry payload', () => {
  it('round-trips every change type with the configuration it makes, versioned, and rejects garbage', () => {
    let conf = confOf(['n1', 'n2', 'n3']);
    const all: ConfChange[] = [
      { type: 'addLearner', id: 'n4', address: 'tcp://10.0.0.4:7000' },
      { type: 'promote', id: 'n4' },
      { type: 'addVoter', id: 'x_y-Z', address: 'ünïcödé' },
      { type: 'remove', id: 'n1' },
    ];
    for (const change of all) {
      const next = applyConfChange(conf, change);
      if (typeof next === 'string') throw new Error(next);
      expect(decodeConfEntry(encodeConfEntry(change, next))).toEqual({ change, conf: next });
      conf = next;
    }
    expect(conf).toEqual(
      confOf(
        ['n2', 'n3', 'n4', 'x_y-Z'],
        [],
        new Map([
          ['n4', 'tcp://10.0.0.4:7000'],
          ['x_y-Z', 'ünïcödé'],
        ]),
      ),
    );
    const solo = confOf(['n1']);
    const bytes = [1, 0, 2, 0x6e, 0x32, 0, 0, 0, 1, 2, 0x6e, 0x31, 0, 0, 0, 1, 2, 0x6e, 0x32, 0, 0];
    const grown = applyConfChange(solo, { type: 'addLearner', id: 'n2' }) as typeof solo;
    expect([...encodeConfEntry({ type: 'addLearner', id: 'n2' }, grown)]).toEqual(bytes);
    expect(decodeConfEntry(Uint8Array.from([2, ...bytes.slice(1)]))).toBeNull(); // version
    expect(decodeConfEntry(Uint8Array.from([1, 9, ...bytes.slice(2)]))).toBeNull(); // type
    expect(decodeConfEntry(Uint8Array.from(bytes.slice(0, -1)))).toBeNull(); // truncated
    expect(decodeConfEntry(Uint8Array.from([...bytes, 0]))).toBeNull(); // trailing
    expect(EntryType.Config).toBe(2);
  });
});
