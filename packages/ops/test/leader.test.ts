import { describe, expect, it } from 'vitest';
import { agreedLeader, claimedLeader, type LeaderView } from '../src/index.js';

const s = (id: string, role: string, term: number, leader: string | null): LeaderView => ({
  id,
  role,
  term,
  leader,
});

describe('agreedLeader', () => {
  const n1 = s('n1', 'leader', 2, 'n1');
  const n2 = s('n2', 'follower', 2, 'n1');
  const n3 = s('n3', 'follower', 2, 'n1');

  it('is the leader every member names, when it says it leads', () => {
    expect(agreedLeader([n1, n2, n3])).toEqual({ leader: 'n1', term: 2, statuses: [n1, n2, n3] });
  });

  it('is null while a member names another leader or none', () => {
    expect(agreedLeader([n1, n2, s('n3', 'candidate', 3, null)])).toBeNull();
    expect(agreedLeader([s('n1', 'follower', 3, 'n2'), n2, n3])).toBeNull();
  });

  it('needs every member to answer unless all is false', () => {
    expect(agreedLeader([n1, n2, null])).toBeNull();
    expect(agreedLeader([n1, n2, null], false)?.statuses).toEqual([n1, n2]);
    expect(agreedLeader([null, null], false)).toBeNull();
  });
});

describe('claimedLeader', () => {
  it('picks the member that says it leads in the highest term', () => {
    expect(claimedLeader([s('n1', 'leader', 2, 'n1'), s('n2', 'leader', 3, 'n2'), null])).toBe(1);
    expect(claimedLeader([s('n1', 'follower', 2, null), null])).toBeNull();
  });
});
