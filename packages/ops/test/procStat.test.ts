import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuPercent, parseProcStat, processAlive, readProcStat, sampleProc } from '../src/index.js';

// A real line's shape: pid (comm) state ppid ... utime(14) stime(15) ... starttime(22) ...
const line = (comm: string): string =>
  `4242 (${comm}) S 1 4242 4242 0 -1 4194560 100 0 0 0 37 11 0 0 20 0 1 0 987654 1000000 500 18446744073709551615`;

describe('parseProcStat', () => {
  it('reads state, CPU ticks and start time', () => {
    expect(parseProcStat(line('node'))).toEqual({
      state: 'S',
      utimeTicks: 37,
      stimeTicks: 11,
      startTime: 987654,
    });
  });

  it('counts fields after the last parenthesis: a command name may hold spaces and parentheses', () => {
    expect(parseProcStat(line('a b) (c d'))).toEqual({
      state: 'S',
      utimeTicks: 37,
      stimeTicks: 11,
      startTime: 987654,
    });
  });

  it('refuses a line that is not a stat line', () => {
    expect(parseProcStat('')).toBeNull();
    expect(parseProcStat('4242 (node) S 1')).toBeNull();
  });
});

describe.skipIf(!existsSync('/proc/self'))('on this machine', () => {
  it('reads this process, sees it alive and samples CPU and RSS', () => {
    expect(readProcStat(process.pid)?.state).toMatch(/^[RSD]$/);
    expect(processAlive(process.pid)).toBe(true);
    const a = sampleProc(process.pid);
    expect(a?.rssBytes).toBeGreaterThan(1024 * 1024);
    expect(cpuPercent(a, null)).toBeNull();
  });

  it('a PID nobody has is not alive', () => {
    expect(processAlive(2 ** 22 + 7)).toBe(false);
    expect(sampleProc(2 ** 22 + 7)).toBeNull();
  });
});
