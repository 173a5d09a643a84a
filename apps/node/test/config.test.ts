import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SESSION_TIMEOUT_MS, DEFAULT_WATCH_LIMITS } from '@keel/kv';
import { afterAll, describe, expect, it } from 'vitest';
import { engineTicks, NODE_USAGE, parseNodeConfig } from '../src/config.js';
import { base, error } from './helpers/config.js';
import { killAll, tempDir } from './helpers/procs.js';

afterAll(killAll);

describe('keel node configuration', () => {
  it('parses flags with defaults that follow the paper (150 ms elections, heartbeat well below)', () => {
    const c = parseNodeConfig(base);
    if (c === 'help') throw new Error('unexpected help');
    expect(c.id).toBe('n1');
    expect(c.peerBind).toEqual({ host: '127.0.0.1', port: 7001 });
    expect(c.clientBind).toEqual({ host: '127.0.0.1', port: 8001 });
    expect(c.electionTimeoutMs).toBe(150);
    expect(c.heartbeatIntervalMs).toBeLessThan(c.electionTimeoutMs / 2);
    expect(engineTicks(c)).toEqual({ electionTicks: 15, heartbeatTicks: 5 });
    expect(c.clients.map((x) => x.id)).toEqual(['n1']);
  });

  it("uses @keel/kv's session timeout by default (one default, 10 minutes), and says so in --help", () => {
    const c = parseNodeConfig(base);
    if (c === 'help') throw new Error('unexpected help');
    expect(c.sessionTimeoutMs).toBe(DEFAULT_SESSION_TIMEOUT_MS);
    expect(DEFAULT_SESSION_TIMEOUT_MS).toBe(600_000);
    expect(NODE_USAGE).toContain('client session expiry, by log time (default 600000)');
  });

  it("bounds the watch service: @keel/kv's defaults, or --watch-history, --watch-history-bytes, --max-watchers", () => {
    const parse = (argv: string[], env: Record<string, string> = {}) => {
      const c = parseNodeConfig(argv, env);
      if (c === 'help') throw new Error('unexpected help');
      return c.watch;
    };
    expect(parse(base)).toEqual({
      maxEvents: DEFAULT_WATCH_LIMITS.maxEvents,
      maxBytes: DEFAULT_WATCH_LIMITS.maxBytes,
      maxWatchers: DEFAULT_WATCH_LIMITS.maxWatchers,
    });
    expect(
      parse([...base, '--watch-history', '500', '--watch-history-bytes', '1MiB'], {
        KEEL_MAX_WATCHERS: '20',
      }),
    ).toEqual({ maxEvents: 500, maxBytes: 1024 ** 2, maxWatchers: 20 });
    expect(error([...base, '--watch-history', '0'])).toBe(
      "--watch-history must be an integer from 1 to 10000000, got '0'",
    );
    expect(error([...base, '--watch-history-bytes', '1KiB'])).toBe(
      "--watch-history-bytes must be at least 65536 bytes (64KiB), got '1KiB'",
    );
    expect(NODE_USAGE).toContain('--watch-history <n>');
  });

  it('sizes WAL segments: 64 MiB by default, --wal-segment-size or KEEL_WAL_SEGMENT_SIZE, bounded', () => {
    const parse = (argv: string[], env: Record<string, string> = {}) => {
      const c = parseNodeConfig(argv, env);
      if (c === 'help') throw new Error('unexpected help');
      return c.walSegmentBytes;
    };
    expect(parse(base)).toBe(64 * 1024 ** 2);
    expect(parse([...base, '--wal-segment-size', '4MiB'])).toBe(4 * 1024 ** 2);
    expect(parse(base, { KEEL_WAL_SEGMENT_SIZE: '256KiB' })).toBe(256 * 1024);
    expect(error([...base, '--wal-segment-size', '1KiB'])).toBe(
      '--wal-segment-size must be between 64KiB and 1GiB, got 1024 bytes',
    );
    expect(error([...base, '--wal-segment-size', 'lots'])).toMatch(
      /^--wal-segment-size must be a size in bytes/,
    );
  });

  it('takes the environment, then a config file; flags win', () => {
    const dir = tempDir('keel-cfg-');
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ electionTimeout: 300, logLevel: 'debug', dataDir: '/from/file' }));
    const c = parseNodeConfig([...base.slice(0, 6), '--config', file], {
      KEEL_DATA_DIR: '/from/env',
      KEEL_LOG_LEVEL: 'warn',
    });
    if (c === 'help') throw new Error('unexpected help');
    expect(c.dataDir).toBe('/from/env');
    expect(c.logLevel).toBe('warn');
    expect(c.electionTimeoutMs).toBe(300);
  });

  it.each([
    [
      ['--id', 'n9', '--peers', 'n1=127.0.0.1:7001', '--client-bind', '127.0.0.1:1', '--data-dir', 'd'],
      "member id 'n9' is not among the peers",
    ],
    [['--peers', 'n1=127.0.0.1:7001', '--data-dir', 'd'], 'missing --id'],
    [['--id', 'n1', '--peers', 'n1=127.0.0.1', '--data-dir', 'd'], '--peers: malformed address'],
    [[...base, '--http', 'localhost'], '--http: malformed address'],
    [[...base, '--election-timeout', 'soon'], '--election-timeout must be an integer'],
    [[...base, '--heartbeat-interval', '500'], 'must be below --election-timeout'],
    [[...base, '--log-level', 'loud'], '--log-level must be one of'],
    [[...base, '--bogus'], "Unknown option '--bogus'"],
    [[...base, '--cluster-id', 'a b'], '--cluster-id'],
    [
      [
        '--id',
        '__proto__',
        '--peers',
        '__proto__=127.0.0.1:7001',
        '--client-bind',
        '127.0.0.1:1',
        '--data-dir',
        'd',
      ],
      '--id "__proto__" is invalid: must be 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit',
    ],
    [
      [
        '--id',
        'n1',
        '--peers',
        'n1=127.0.0.1:7001,__proto__=127.0.0.1:7002',
        '--client-bind',
        '127.0.0.1:1',
        '--data-dir',
        'd',
      ],
      '--peers: member id "__proto__" is invalid',
    ],
    [[...base, '--clients', 'n1=127.0.0.1:7101,_x=127.0.0.1:7102'], '--clients: member id "_x" is invalid'],
    [
      [...base, '--clients', 'constructor=127.0.0.1:7102'],
      "--clients names 'constructor', which is not a peer",
    ],
  ])('rejects %j with one clear line', (argv, message) => {
    const m = error(argv);
    expect(m).toContain(message);
    expect(m).not.toContain('\n');
  });

  it('rejects unknown keys and bad JSON in the config file', () => {
    const dir = tempDir('keel-cfg-');
    writeFileSync(join(dir, 'a.json'), '{"electionTimout": 1}');
    writeFileSync(join(dir, 'b.json'), '{oops');
    expect(error([...base, '--config', join(dir, 'a.json')])).toContain("unknown key 'electionTimout'");
    expect(error([...base, '--config', join(dir, 'b.json')])).toContain('is not a JSON object');
    expect(error([...base, '--config', join(dir, 'none.json')])).toContain('cannot read config file');
  });

  it('--help is not an error', () => {
    expect(parseNodeConfig(['--help'])).toBe('help');
  });
});
