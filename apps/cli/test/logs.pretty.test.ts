import { describe, expect, it } from 'vitest';
import { logPrettifier } from '../src/cluster/logs.js';

describe('keel cluster logs: member log lines through pino-pretty', () => {
  const line = JSON.stringify({
    level: 30,
    time: '2026-12-03T14:30:00.123Z',
    pid: 4242,
    hostname: 'box',
    nodeId: 'n2',
    component: 'raft',
    term: 3,
    msg: 'became leader',
  });

  it('prints a pino JSON line as one readable line: time, level, message and fields; pid and hostname hidden', () => {
    const out = logPrettifier(false)(line);
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.123\] INFO: became leader /);
    expect(out).toContain('"nodeId":"n2"');
    expect(out).toContain('"term":3');
    expect(out).not.toContain('4242');
    expect(out).not.toContain('box');
    expect(out).not.toContain('\n');
  });

  it('colours only when asked', () => {
    expect(logPrettifier(true)(line)).toContain('\u001b[');
    expect(logPrettifier(false)(line)).not.toContain('\u001b[');
  });

  it('leaves lines that are not pino JSON as they are (launcher banners, stack traces, bad JSON)', () => {
    const p = logPrettifier(false);
    for (const l of [
      '--- keel cluster: starting n1 at ...',
      '    at foo (bar.js:1:2)',
      '{not json',
      '[1,2]',
      '',
    ]) {
      expect(p(l)).toBe(l);
    }
  });
});
