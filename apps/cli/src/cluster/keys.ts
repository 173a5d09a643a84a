import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, readSecretFile, writeKeyPairFiles } from '@keel/node/files';
import { useAdminToken } from '@keel/ops';
import { generateKeyPair } from '@keel/transport-zmq';
import { readClusterFile } from './ClusterFile.js';

/**
 * The keys of a cluster started with `keel cluster up --secure`, under `<dir>/keys/` (mode 0700):
 * `members/<id>.key` and `<id>.pub` (each member's CURVE pair; the dir is every member's
 * `--curve-peer-keys`), `clients/cli.key` and `cli.pub` (the CLI's pair; the dir of `.pub` files
 * is every member's `--curve-client-keys`) and `admin.token` (mode 0600, `--admin-token-file`).
 */
export interface ClusterKeys {
  readonly members: string;
  readonly clients: string;
  readonly clientKey: string;
  readonly adminToken: string;
}

export function clusterKeyPaths(dir: string): ClusterKeys {
  const keys = join(dir, 'keys');
  return {
    members: join(keys, 'members'),
    clients: join(keys, 'clients'),
    clientKey: join(keys, 'clients', 'cli.key'),
    adminToken: join(keys, 'admin.token'),
  };
}

/** Creates what is missing (a restart keeps the keys it was started with) and returns the paths. */
export function ensureClusterKeys(dir: string, ids: readonly string[]): ClusterKeys {
  const k = clusterKeyPaths(dir);
  mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 });
  mkdirSync(k.members, { recursive: true, mode: 0o700 });
  mkdirSync(k.clients, { recursive: true, mode: 0o700 });
  for (const id of ids) {
    if (!existsSync(join(k.members, `${id}.key`))) writeKeyPairFiles(k.members, id, generateKeyPair());
  }
  if (!existsSync(k.clientKey)) writeKeyPairFiles(k.clients, 'cli', generateKeyPair());
  if (!existsSync(k.adminToken)) {
    writeFileSync(k.adminToken, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return k;
}

/** Whether the cluster recorded in `dir` runs its members with keys (`up --secure`). */
export function isSecureCluster(dir: string): boolean {
  const file = readClusterFile(dir);
  return file?.members.some((m) => m.command.includes('--curve-secret-key-file')) ?? false;
}

/** The member flags of a secure cluster; `id`'s own key pair is its secret key file. */
export function secureArgs(k: ClusterKeys, id: string): string[] {
  return [
    '--curve-secret-key-file',
    join(k.members, `${id}.key`),
    '--curve-peer-keys',
    k.members,
    '--curve-client-keys',
    k.clients,
    '--admin-token-file',
    k.adminToken,
  ];
}

/**
 * The CLI's admin requests carry a token from now on: the file KEEL_ADMIN_TOKEN_FILE names, else
 * the token of the cluster in `dir` if it has one, else none. Returns what is wrong with the token
 * file (one line), or null.
 */
export function useClusterAdminToken(
  dir: string,
  // keel-lint-allow-object-map: environment variables, looked up by a fixed name only
  env: Readonly<Record<string, string | undefined>>,
): string | null {
  const named = env.KEEL_ADMIN_TOKEN_FILE;
  const { adminToken } = clusterKeyPaths(dir);
  try {
    if (named !== undefined && named !== '') useAdminToken(readSecretFile(named, 'KEEL_ADMIN_TOKEN_FILE'));
    else
      useAdminToken(
        isSecureCluster(dir) && existsSync(adminToken)
          ? readSecretFile(adminToken, 'the admin token file')
          : null,
      );
    return null;
  } catch (err) {
    useAdminToken(null);
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}
