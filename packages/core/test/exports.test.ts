import { describe, expect, it } from 'vitest';

// These lists pin @keel/core's public surface, one per `exports` entry of package.json. Changing one
// changes the package's API: it must be deliberate, update the README's API section and come with a
// changeset (removing or moving a name is a breaking change).
const keys = async (load: () => Promise<object>): Promise<string[]> => Object.keys(await load()).sort();

describe('public surface', () => {
  it('the root exports the engine, the driver, the interfaces, errors, the member-id rule, confChange and the session table', async () => {
    expect(await keys(() => import('../src/index.js'))).toEqual([
      'CONF_CHANGE_VERSION',
      'ChannelErrorCode',
      'ChunkReader',
      'ConfChangeRejection',
      'ConfChangeType',
      'DEFAULT_MAX_SESSIONS',
      'DEFAULT_SESSION_TIMEOUT_MS',
      'EntryType',
      'ErrorCode',
      'InvalidMemberIdError',
      'InvariantError',
      'KeelError',
      'LoopbackNetwork',
      'MAX_ID_LENGTH',
      'MEMBER_ID_ERROR_CODE',
      'MEMBER_ID_PATTERN',
      'MEMBER_ID_RULE',
      'MessageType',
      'PeerEvent',
      'Raft',
      'RaftNode',
      'RequestErrorCode',
      'Role',
      'SeededRng',
      'SessionErrorCode',
      'SessionTable',
      'applyConfChange',
      'checkMemberId',
      'chunksLength',
      'concatChunks',
      'confOf',
      'decodeConfEntry',
      'describeId',
      'encodeConfEntry',
      'invariant',
      'isValidMemberId',
      'realScheduler',
      'resolveConfig',
      'takeWithinBytes',
      'toChunks',
    ]);
  });

  it('@keel/core/codec exports the wire format: frames, messages, client records, Reader/Writer', async () => {
    expect(await keys(() => import('../src/codec/index.js'))).toEqual([
      'BATCH_HEADER_MAX_BYTES',
      'CLIENT_HEADER_MAX_BYTES',
      'CodecErrorCode',
      'DEFAULT_CODEC_LIMITS',
      'DEFAULT_WRITER_POOL_BYTES',
      'DecodeError',
      'DecodeErrorReason',
      'EncodeError',
      'FrameKind',
      'MAX_VARINT_BYTES',
      'MessageCode',
      'Reader',
      'ReplyStatus',
      'WIRE_VERSION',
      'Writer',
      'clientRecordSizeBound',
      'decodeBatch',
      'decodeClientReplies',
      'decodeClientRequests',
      'decodeMessage',
      'encodeBatch',
      'encodeMessage',
      'messageSizeBound',
      'openFrame',
      'readId',
      'readMessage',
      'readSessions',
      'writeBatch',
      'writeClientReplies',
      'writeClientRequests',
      'writeFrameHeader',
      'writeId',
      'writeMessage',
      'writeSessions',
    ]);
  });

  it('@keel/core/testing exports the in-memory stores and the special ids', async () => {
    expect(await keys(() => import('../src/testing/index.js'))).toEqual([
      'INVALID_IDS',
      'MemoryLogStore',
      'MemorySnapshotStore',
      'SPECIAL_KEYS',
      'SPECIAL_VALID_IDS',
    ]);
  });

  it('@keel/core/testing/property exports the seeded property runner', async () => {
    expect(await keys(() => import('../src/testing/property.js'))).toEqual([
      'FIXED_PROPERTY_SEEDS',
      'propertyRunner',
      'replayCommand',
    ]);
  });

  it('@keel/core/testing/suite exports the LogStore conformance suite and its entry builders', async () => {
    expect(await keys(() => import('../src/testing/logStoreSuite.js'))).toEqual([
      'entry',
      'logStoreConformance',
      'plain',
      'range',
    ]);
  });

  it('package.json declares exactly these entries', async () => {
    const pkg = (await import('../package.json', { with: { type: 'json' } })).default as {
      exports: Record<string, unknown>;
    };
    expect(Object.keys(pkg.exports).sort()).toEqual([
      '.',
      './codec',
      './testing',
      './testing/property',
      './testing/suite',
    ]);
  });
});
