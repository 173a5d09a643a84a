import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, readKeyPairFile, readPublicKeys } from '@keel/node/files';
import type { ClientConnectionOptions } from '@keel/transport-zmq';
import { clusterKeyPaths, isSecureCluster } from '../../cluster/keys.js';
import { defaultClusterDir } from '../../cluster/paths.js';
import { ExitCode, type Io } from '../../io.js';
import { CommandError } from './errors.js';
import type { Values } from './options.js';

/** The CURVE options of one connection, by the member's client address. */
export type CurveFor = (address: string) => NonNullable<ClientConnectionOptions['curve']>;

/**
 * The client's CURVE keys, or null to connect without: `--curve-key-file` (or
 * KEEL_CURVE_KEY_FILE), else the CLI key of a cluster started with `keel cluster up --secure`.
 * Each member has its own server key: `--curve-server-keys` (KEEL_CURVE_SERVER_KEYS) names them by
 * member id or by `host:port` (a dir of `<name>.pub` files or a file of `<name>=<key>` lines),
 * else the cluster dir's member keys.
 */
export function clientCurve(values: Values, io: Io, members: ReadonlyMap<string, string>): CurveFor | null {
  const env = io.env ?? process.env;
  const fromEnv = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const cwd = io.cwd ?? process.cwd();
  const dir = typeof values.dir === 'string' ? resolve(cwd, values.dir) : defaultClusterDir(cwd, env);
  // The cluster dir's keys only for a cluster whose members run with them.
  const cluster = typeof values.endpoints === 'string' || !isSecureCluster(dir) ? null : clusterKeyPaths(dir);
  const keyFile =
    (typeof values['curve-key-file'] === 'string'
      ? values['curve-key-file']
      : fromEnv('KEEL_CURVE_KEY_FILE')) ??
    (cluster !== null && existsSync(cluster.clientKey) ? cluster.clientKey : undefined);
  if (keyFile === undefined) return null;
  const serverKeys =
    (typeof values['curve-server-keys'] === 'string'
      ? values['curve-server-keys']
      : fromEnv('KEEL_CURVE_SERVER_KEYS')) ??
    (cluster !== null && existsSync(cluster.members) ? cluster.members : undefined);
  if (serverKeys === undefined) {
    throw new CommandError(
      `a CURVE client needs the members' public keys: --curve-server-keys <dir|file> (or KEEL_CURVE_SERVER_KEYS)`,
      ExitCode.Usage,
    );
  }
  try {
    const pair = readKeyPairFile(keyFile, '--curve-key-file');
    const byAddress = new Map<string, string>();
    for (const [name, key] of readPublicKeys(serverKeys, '--curve-server-keys')) {
      byAddress.set(members.get(name) ?? name, key);
    }
    return (address) => {
      const serverPublicKey = byAddress.get(address);
      if (serverPublicKey === undefined) {
        throw new Error(
          `no CURVE server key for ${address} in ${serverKeys} (name it by member id or host:port)`,
        );
      }
      return { ...pair, serverPublicKey };
    };
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandError(err.message, ExitCode.Usage);
    throw err;
  }
}
