import { resolve } from 'node:path';
import { MemberState, readClusterFile } from '../../cluster/ClusterFile.js';
import { checkOwnership } from '../../cluster/ownership.js';
import { defaultClusterDir } from '../../cluster/paths.js';
import { ExitCode, type Io } from '../../io.js';
import { parseDuration } from '../../options/duration.js';
import { bind, ENDPOINTS_ENV, type Env, parseEndpoints } from '../../options/env.js';
import { cliName, targetFlags } from '../../options/hint.js';
import { CommandError, usage } from './errors.js';
import type { Values } from './options.js';

/** `--timeout <duration>` in milliseconds (default 5s; a bare number is seconds). */
export function timeoutMs(values: Values): number {
  const v = values.timeout;
  if (typeof v !== 'string') return 5000;
  const r = parseDuration(v, '--timeout', { minMs: 1, maxMs: 3_600_000 });
  if (!r.ok) throw usage(r.message);
  return r.ms;
}

/** Where a KV command sends its requests, and how a hint names that cluster again. */
export interface Target {
  readonly endpoints: string[];
  /** Member ids by client endpoint, to follow leader hints (empty for named endpoints). */
  readonly members: Map<string, string>;
  /** `keel cluster status --dir ...` for a cluster file; null for endpoints. */
  readonly statusHint: string | null;
}

/**
 * The cluster a KV command talks to, the first that applies (a flag always beats the
 * environment): `--endpoints`, `--dir`, `KEEL_ENDPOINTS`, then the live members of the cluster
 * file in `KEEL_CLUSTER_DIR` or the default cluster directory.
 */
export function target(values: Values, io: Io): Target {
  const env: Env = io.env ?? process.env;
  const named = bind(values.endpoints, 'endpoints', typeof values.dir === 'string' ? {} : env, ENDPOINTS_ENV);
  if (named !== undefined) {
    const r = parseEndpoints(named);
    if (!r.ok) throw usage(r.message);
    return { endpoints: r.endpoints, members: new Map(), statusHint: null };
  }
  const cwd = io.cwd ?? process.cwd();
  const dir = typeof values.dir === 'string' ? resolve(cwd, values.dir) : defaultClusterDir(cwd, env);
  const cli = cliName(env);
  const flags = targetFlags(values);
  const noCluster = new CommandError(
    `no cluster running in ${dir}; start one with '${cli} cluster up${flags}' or name members with --endpoints host:port,... (or ${ENDPOINTS_ENV})`,
    ExitCode.NoCluster,
  );
  const file = readClusterFile(dir);
  if (file === null) throw noCluster;
  const live = file.members.filter(
    (m) => m.state !== MemberState.Stopped && checkOwnership(m).kind === 'ours',
  );
  if (live.length === 0) throw noCluster;
  const members = new Map(live.map((m) => [m.id, `${file.host}:${m.ports.client}`]));
  return { endpoints: [...members.values()], members, statusHint: `${cli} cluster status${flags}` };
}
