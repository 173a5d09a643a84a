import { describe, expect, it } from 'vitest';
import { TestCluster } from './helpers/cluster.js';

describe('engine smoke', () => {
  it('elects a leader and commits entries on every node', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    expect(c.raft('a').role).toBe('leader');
    expect(c.raft('b').leader).toBe('a');
    expect(c.propose('a', 'x=1').ok).toBe(true);
    expect(c.propose('a', 'y=2').ok).toBe(true);
    c.deliverAll();
    c.tickAll(2);
    c.deliverAll();
    for (const id of ['a', 'b', 'c']) expect(c.appliedData(id)).toEqual(['x=1', 'y=2']);
  });

  it('elects by timeout alone', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    for (let i = 0; i < 100 && c.leader() === null; i++) {
      c.tickAll(1);
      c.deliverAll();
    }
    expect(c.leader()).not.toBeNull();
  });
});
