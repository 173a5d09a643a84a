import { describe, expect, it } from 'vitest';

describe('public surface', () => {
  it('exports the state machine, its client, the entry and client-protocol codecs, results, codes and limits', async () => {
    // This list pins @keel/kv's public surface. Changing it changes the package's API: it must be
    // deliberate, update the README and come with a changeset (removing a name is breaking).
    expect(Object.keys(await import('../src/index.js')).sort()).toEqual([
      'CommandCode',
      'DEFAULT_KV_LIMITS',
      'DEFAULT_MAX_SESSIONS',
      'DEFAULT_SESSION_TIMEOUT_MS',
      'ENTRY_VERSION',
      'KeyLimits',
      'KvClient',
      'KvClientError',
      'KvClientErrorCode',
      'KvErrorCode',
      'KvStateMachine',
      'MemberErrorCode',
      'PROTOCOL_VERSION',
      'ReadConsistency',
      'ResultCode',
      'SNAPSHOT_CHUNK_BYTES',
      'SNAPSHOT_VERSION',
      'SnapshotError',
      'SnapshotErrorReason',
      'checkCommand',
      'checkKey',
      'checkValue',
      'crc32',
      'decodeEntry',
      'decodeRequest',
      'decodeRequestFrame',
      'decodeResponse',
      'decodeResponseFrame',
      'encodeEntry',
      'encodeRequest',
      'encodeRequestFrame',
      'encodeResponse',
      'encodeResponseFrame',
      'isReadCommand',
      'isWriteCommand',
      'kvService',
      'readCommand',
      'readResult',
      'writeCommand',
      'writeResult',
    ]);
  });
});
