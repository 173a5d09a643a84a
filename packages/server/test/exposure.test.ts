import { type Logger, pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { isLoopback, warnExposure } from '../src/exposure.js';

function recording(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (l: string) => lines.push(JSON.parse(l).msg) });
  return { log, lines };
}

describe('startup warnings of what a member leaves open', () => {
  it('names the hint when there are no keys, and nothing when secured on loopback', () => {
    const a = recording();
    warnExposure(a.log, { host: '127.0.0.1', port: 7201 }, false, false, 'use --curve-secret-key-file');
    expect(a.lines).toEqual([
      'peer and client traffic is unauthenticated and unencrypted: use --curve-secret-key-file',
    ]);
    const b = recording();
    warnExposure(b.log, { host: '::1', port: 7201 }, true, true, 'unused');
    expect(b.lines).toEqual([]);
  });

  it('logs an admin API bound beyond loopback as exposed, with or without a token', () => {
    const a = recording();
    warnExposure(a.log, { host: '10.0.0.5', port: 7201 }, true, true, undefined);
    expect(a.lines).toEqual(['admin HTTP on 10.0.0.5:7201 is exposed beyond this host (token required)']);
    const b = recording();
    warnExposure(b.log, { host: '0.0.0.0', port: 7201 }, true, false, undefined);
    expect(b.lines[0]).toMatch(/exposed beyond this host without a token/);
  });

  it('knows the loopback hosts', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.com'].some(isLoopback)).toBe(false);
  });
});
