import { resolve } from 'node:path';
import { MemberState, readClusterFile } from '../cluster/ClusterFile.js';
import { useClusterAdminToken } from '../cluster/keys.js';
import { defaultClusterDir } from '../cluster/paths.js';
import { ExitCode, type Io } from '../io.js';
import { ADMIN_ENDPOINTS_ENV, bind, CLUSTER_DIR_ENV, type Env, parseEndpoints } from './env.js';
import { cliName, targetFlags } from './hint.js';

/**
 * Where the admin commands (`keel members`, ...) reach the members' HTTP admin API, the first
 * that applies (a flag always beats the environment):
 * 1. `--admin-endpoints host:port,...` (`--endpoint`, its old name, still works with a warning);
 * 2. `--dir`: the HTTP ports recorded in that cluster's file;
 * 3. `KEEL_ADMIN_ENDPOINTS`;
 * 4. the cluster file in `KEEL_CLUSTER_DIR`, or in the default cluster directory.
 * For a cluster `keel cluster` did not start, name every member's `--http` address: a member
 * knows its own HTTP address and those of members added at run time with one (`members add
 * --http`), not those of the other bootstrap members, so one follower alone cannot always lead the
 * commands to the leader. The KV protocol's client endpoints cannot serve: they do not speak HTTP.
 */
export type AdminEndpoints =
  | { ok: true; endpoints: string[] }
  | { ok: false; message: string; exitCode: ExitCode };

export interface AdminValues {
  readonly dir?: string | boolean | undefined;
  readonly 'admin-endpoints'?: string | boolean | undefined;
  /** Deprecated: the one HTTP endpoint `keel members` took before `--admin-endpoints`. */
  readonly endpoint?: string | boolean | undefined;
}

export function adminEndpoints(values: AdminValues, io: Io): AdminEndpoints {
  const env: Env = io.env ?? process.env;
  if (typeof values.endpoint === 'string') {
    io.err('keel: --endpoint is deprecated; use --admin-endpoints (or KEEL_ADMIN_ENDPOINTS)');
    if (typeof values['admin-endpoints'] === 'string') {
      return {
        ok: false,
        message: 'use --admin-endpoints or --endpoint, not both',
        exitCode: ExitCode.Usage,
      };
    }
  }
  const flag = values['admin-endpoints'] ?? values.endpoint;
  const flagName = typeof values['admin-endpoints'] === 'string' ? 'admin-endpoints' : 'endpoint';
  const named = bind(flag, flagName, typeof values.dir === 'string' ? {} : env, ADMIN_ENDPOINTS_ENV);
  if (named !== undefined) {
    const r = parseEndpoints(named);
    return r.ok ? r : { ok: false, message: r.message, exitCode: ExitCode.Usage };
  }
  const cwd = io.cwd ?? process.cwd();
  const dir = typeof values.dir === 'string' ? resolve(cwd, values.dir) : defaultClusterDir(cwd, env);
  const file = readClusterFile(dir);
  if (file === null || file.members.every((m) => m.state === MemberState.Stopped)) {
    return {
      ok: false,
      message: `no cluster is running in ${dir} (start one with '${cliName(env)} cluster up${targetFlags({ dir: values.dir })}'; for another cluster name any member's HTTP address with --admin-endpoints host:port or ${ADMIN_ENDPOINTS_ENV}, or its directory with --dir or ${CLUSTER_DIR_ENV})`,
      exitCode: ExitCode.NoCluster,
    };
  }
  return { ok: true, endpoints: file.members.map((m) => `${file.host}:${m.ports.http}`) };
}

/**
 * `adminEndpoints`, with the admin token of the cluster in `--dir` (or the default directory, or
 * KEEL_ADMIN_TOKEN_FILE) set for the requests that follow: what every admin command needs first.
 */
export function adminAccess(values: AdminValues, io: Io): AdminEndpoints {
  const cwd = io.cwd ?? process.cwd();
  const env: Env = io.env ?? process.env;
  const dir = typeof values.dir === 'string' ? resolve(cwd, values.dir) : defaultClusterDir(cwd, env);
  const tokenProblem = useClusterAdminToken(dir, env);
  if (tokenProblem !== null) return { ok: false, message: tokenProblem, exitCode: ExitCode.Failure };
  return adminEndpoints(values, io);
}
