import { describe, expect, it } from 'vitest';

describe('public surface', () => {
  it('exports startMember, its options and handle, address parsing, membership codes, admin HTTP and metrics', async () => {
    // This list pins @keel/server's public surface. Changing it changes the package's API: it must be
    // deliberate, update the README and come with a changeset (removing a name is breaking).
    expect(Object.keys(await import('../src/index.js')).sort()).toEqual([
      'ConfigError',
      'DEFAULT_WAL_SEGMENT_BYTES',
      'MemberAction',
      'MemberChangeProblem',
      'NodeMetrics',
      'PROMOTE_MAX_LAG',
      'RETRYABLE_REFUSALS',
      'StartupError',
      'changeInEffect',
      'claimDataDir',
      'decodeMemberAddresses',
      'encodeMemberAddresses',
      'engineTicks',
      'hostPort',
      'isLoopback',
      'learnerNotReady',
      'makeDirectory',
      'parseAddress',
      'parseMemberChange',
      'parsePeers',
      'peerRoutes',
      'roleChangeReason',
      'seedDataDir',
      'startAdminHttp',
      'startMember',
      'tcpEndpoint',
    ]);
  });

  it('exports the exposition lint for tests that scrape a member (@keel/server/testing)', async () => {
    expect(Object.keys(await import('../src/testing/index.js')).sort()).toEqual([
      'checkExposition',
      'namingProblems',
    ]);
  });
});
