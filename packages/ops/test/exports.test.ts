import { describe, expect, it } from 'vitest';

describe('public surface', () => {
  it('exports process launch and tracking, ports, admin HTTP reads, the leader views, /proc sampling and waits', async () => {
    // This list pins @keel/ops's public surface. Changing it changes the package's API: it must be
    // deliberate, update the README and come with a changeset (removing a name is breaking).
    expect(Object.keys(await import('../src/index.js')).sort()).toEqual([
      'LOOPBACK',
      'addressList',
      'adminHeaders',
      'adminJson',
      'agreedLeader',
      'asMemberStatus',
      'busyPorts',
      'claimedLeader',
      'cpuPercent',
      'durationMs',
      'fetchMetrics',
      'fetchStatus',
      'formatDuration',
      'freeBasePort',
      'freePorts',
      'killAllStarted',
      'killPid',
      'launchMember',
      'memberCommand',
      'memberPorts',
      'parseDuration',
      'parseProcStat',
      'portFree',
      'processAlive',
      'readProcStat',
      'sampleProc',
      'sleep',
      'startMemberProcess',
      'stopPids',
      'trackPid',
      'untrackPid',
      'useAdminToken',
      'waitFor',
      'waitGone',
      'writeFileMkdir',
    ]);
  });
});
