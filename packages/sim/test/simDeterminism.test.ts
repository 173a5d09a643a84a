import { describe, expect, it } from 'vitest';
import { runSeed } from '../src/index.js';

describe('simulation determinism', () => {
  it('the same seed gives a byte-identical trace and the same stats', () => {
    const a = runSeed(4242, { nodes: 5, trace: true });
    const b = runSeed(4242, { nodes: 5, trace: true });
    expect(a.ok).toBe(true);
    expect(a.trace!.length).toBeGreaterThan(1000);
    expect(a.trace!.join('\n')).toBe(b.trace!.join('\n'));
    expect(a.stats).toEqual(b.stats);
  });

  it('tracing does not change the run', () => {
    const traced = runSeed(77, { trace: true });
    const plain = runSeed(77);
    expect(plain.trace).toBeUndefined();
    expect(plain.stats).toEqual(traced.stats);
  });

  it('different seeds give different runs', () => {
    const a = runSeed(1, { nodes: 3, trace: true });
    const b = runSeed(2, { nodes: 3, trace: true });
    expect(a.trace!.join('\n')).not.toBe(b.trace!.join('\n'));
  });

  it('the trace reads as a story: faults, elections, client operations, healing', () => {
    const r = runSeed(11, { nodes: 3, trace: true });
    const text = r.trace!.join('\n');
    expect(text).toMatch(/^ +0\.000 sim {2}seed 11: 3 nodes/);
    expect(text).toMatch(/n\d +ready#\d+ leader t\d+/);
    expect(text).toMatch(/recv n\d→n\d app t\d+ prev=\d+@\d+/);
    expect(text).toMatch(/c\d +invoke #\d+ p\d+ k\d (get|put v\d+|cas \S+->v\d+)/);
    expect(text).toMatch(/nem +heal all/);
    expect(text).toMatch(/liveness: served/);
  });
});
