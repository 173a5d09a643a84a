import { resolve } from 'node:path';
import { MemberState, readClusterFile } from '../../cluster/ClusterFile.js';
import { checkOwnership } from '../../cluster/ownership.js';
import { defaultClusterDir, repoRoot } from '../../cluster/paths.js';
import { ExitCode, type Io } from '../../io.js';
import { CommandError, usage } from './errors.js';
import type { Values } from './options.js';

/** How to run this CLI again, for hints: `pnpm keel` inside the checkout. */
export function cli(): string {
  return repoRoot() !== null ? 'pnpm keel' : 'keel';
}

/** `--timeout <s>` in milliseconds (default 5 s). */
export function timeoutMs(values: Values): number {
  const v = values.timeout;
  if (typeof v !== 'string') return 5000;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || n <= 0 || n > 3600)
    throw usage(`--timeout must be seconds from 0 to 3600, got '${v}'`);
  return n * 1000;
}

/** `--endpoints`, else the live members of the cluster file (with their ids, to follow leader hints). */
export function endpoints(values: Values, io: Io): { endpoints: string[]; members: Map<string, string> } {
  if (typeof values.endpoints === 'string') {
    const list = values.endpoints
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const bad = list.find((e) => !/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(e));
    if (list.length === 0 || bad !== undefined) {
      throw usage(`--endpoints wants host:port[,host:port...], got '${bad ?? values.endpoints}'`);
    }
    return { endpoints: list, members: new Map() };
  }
  const cwd = io.cwd ?? process.cwd();
  const env = io.env ?? process.env;
  const dir = typeof values.dir === 'string' ? resolve(cwd, values.dir) : defaultClusterDir(cwd, env);
  const noCluster = new CommandError(
    `no cluster running in ${dir}; start one with '${cli()} cluster up${typeof values.dir === 'string' ? ` --dir ${values.dir}` : ''}' or name members with --endpoints host:port,...`,
    ExitCode.NoCluster,
  );
  const file = readClusterFile(dir);
  if (file === null) throw noCluster;
  const live = file.members.filter(
    (m) => m.state !== MemberState.Stopped && checkOwnership(m).kind === 'ours',
  );
  if (live.length === 0) throw noCluster;
  const members = new Map(live.map((m) => [m.id, `${file.host}:${m.ports.client}`]));
  return { endpoints: [...members.values()], members };
}
