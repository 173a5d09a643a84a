import { CommandCode, KvStateMachine, kvService } from '@keel/kv';
import { type MemberHandle, peerRoutes, StartupError, startMember } from '@keel/server';
import type { Logger } from 'pino';
import { ConfigError, NODE_USAGE, type NodeConfig, parseNodeConfig } from './config.js';
import { createLogger } from './logger.js';

/** A KV member of the configuration: `keel node` is `startMember` of a `KvStateMachine`. */
function startKvMember(
  config: NodeConfig,
  log: Logger,
  onFatal: (err: Error) => void,
): Promise<MemberHandle> {
  const { logLevel: _level, logFormat: _format, sessionTimeoutMs, watch, ...options } = config;
  const store = new KvStateMachine({
    sessionTimeoutMs,
    watch,
    // Snapshots of a large store are encoded in slices between other work.
    snapshotYield: () => new Promise<void>((resolve) => setImmediate(resolve)),
  });
  return startMember({
    ...options,
    stateMachine: store,
    service: kvService,
    // kvService labels each request with its command type, a watch request kind, or `malformed`: a closed set.
    requestLabels: [...Object.keys(CommandCode), 'watch', 'watchPoll', 'watchCancel', 'malformed'],
    stateGauges: [
      { name: 'keel_kv_keys', help: 'Keys in the store', value: () => store.size },
      { name: 'keel_kv_bytes', help: 'Bytes of the keys and values in the store', value: () => store.bytes },
      {
        name: 'keel_kv_watchers',
        help: 'Watches open on this member',
        value: () => store.watches.watcherCount,
      },
      {
        name: 'keel_kv_watch_history_events',
        help: "Events kept in this member's watch history window",
        value: () => store.watches.history.size,
      },
      { name: 'keel_leases', help: 'Live leases in the store', value: () => store.leaseCount },
      {
        name: 'keel_lease_expired_total',
        help: 'Leases this member saw expire (leaseExpire entries applied that ended a lease)',
        value: () => store.leasesExpired,
      },
    ],
    logger: log,
    onFatal,
    peerRoutes: peerRoutes(process.env),
    walSyncFile: process.env.KEEL_TEST_WAL_SYNC_FILE ?? '',
  });
}

/**
 * `keel node`: one cluster member. Configuration mistakes and environment problems print one
 * line and exit 2 (config) or 1 (environment); SIGTERM/SIGINT stop it gracefully with exit 0; a
 * fatal error (failed fsync, broken invariant) exits 1 at once, after logging it.
 */
export async function runNode(argv: readonly string[]): Promise<number> {
  let config: ReturnType<typeof parseNodeConfig>;
  try {
    config = parseNodeConfig(argv, process.env, process.stdout.isTTY === true);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`keel node: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (config === 'help') {
    process.stdout.write(`${NODE_USAGE}\n`);
    return 0;
  }
  const log = createLogger(config);
  let member: MemberHandle;
  const fatal = (err: Error): void => {
    log.fatal({ err, code: (err as { code?: string }).code }, `fatal: ${err.message}; stopping`);
    log.flush?.();
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
  };
  // Signals are taken from here on, not only once the member runs: one that arrives while the WAL
  // opens or the ports bind is kept and honoured (a graceful close, exit 0) as soon as it is up,
  // instead of killing the process half-started.
  let requested: string | null = null;
  let onSignal = (signal: string): void => {
    requested ??= signal;
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  try {
    member = await startKvMember(config, log, fatal);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StartupError) {
      process.stderr.write(`keel node: ${err.message}\n`);
      log.flush?.();
      return err instanceof ConfigError ? 2 : 1;
    }
    throw err;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      member.close().then(
        () => resolve(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    onSignal = stop;
    if (requested !== null) stop(requested);
  });
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain || process.env.KEEL_NODE_MAIN === '1') {
  runNode(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Sockets and timers are closed; leave nothing that keeps the loop alive past a bounded wait.
      setTimeout(() => process.exit(code), 2000).unref();
    },
    (err: unknown) => {
      process.stderr.write(`keel node: unexpected error: ${(err as Error)?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
