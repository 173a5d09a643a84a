/**
 * Options that may also come from the environment, as etcdctl's ETCDCTL_ENDPOINTS and consul's
 * CONSUL_HTTP_ADDR do: a script exports the cluster once instead of repeating it on every line.
 * A flag on the command line always wins over the environment.
 */

/** Client endpoints (`--endpoints`) of the KV commands. */
export const ENDPOINTS_ENV = 'KEEL_ENDPOINTS';
/** Admin HTTP endpoints (`--admin-endpoints`) of `keel members` and the other admin commands. */
export const ADMIN_ENDPOINTS_ENV = 'KEEL_ADMIN_ENDPOINTS';
export { CLUSTER_DIR_ENV } from '../cluster/paths.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** A value and where it came from (`--endpoints` or `KEEL_ENDPOINTS`), for error messages. */
export interface Bound {
  readonly value: string;
  readonly source: string;
  readonly fromFlag: boolean;
}

/** `--<flag>` when given, else the non-empty environment variable `envName`, else undefined. */
export function bind(
  flagValue: string | boolean | undefined,
  flag: string,
  env: Env,
  envName: string,
): Bound | undefined {
  if (typeof flagValue === 'string') return { value: flagValue, source: `--${flag}`, fromFlag: true };
  const fromEnv = env[envName];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    return { value: fromEnv, source: envName, fromFlag: false };
  }
  return undefined;
}

const ENDPOINT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

export type EndpointsResult = { ok: true; endpoints: string[] } | { ok: false; message: string };

/** `host:port[,host:port...]` (IPv6 hosts in brackets), as `--endpoints` and its variable spell it. */
export function parseEndpoints(bound: Bound): EndpointsResult {
  const list = bound.value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = list.find((e) => !ENDPOINT.test(e) || Number(e.slice(e.lastIndexOf(':') + 1)) > 65535);
  if (list.length === 0 || bad !== undefined) {
    return {
      ok: false,
      message: `${bound.source} wants host:port[,host:port...], got '${bad ?? bound.value}'`,
    };
  }
  return { ok: true, endpoints: [...new Set(list)] };
}
