import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidMemberIdError, isValidMemberId } from '@keel/core';
import { makeDirectory } from '@keel/node/files';
import type { MemberPorts } from '@keel/ops';

export const CLUSTER_FILE_NAME = 'cluster.json';
export const CLUSTER_FILE_VERSION = 1;

/** What the launcher last did to a member; whether it still runs is checked, never assumed. */
export const MemberState = {
  Running: 'running',
  Paused: 'paused',
  Stopped: 'stopped',
} as const;
export type MemberState = (typeof MemberState)[keyof typeof MemberState];

export interface MemberRecord {
  readonly id: string;
  /** PID of the last process started for this member; null before the first start. */
  readonly pid: number | null;
  /**
   * Start time of that PID (Linux: field 22 of /proc/<pid>/stat, clock ticks since boot). A PID the
   * kernel handed to another process after ours exited has another start time, so it is never
   * signalled. Null where it cannot be read.
   */
  readonly pidStartTime: number | null;
  readonly state: MemberState;
  readonly ports: MemberPorts;
  readonly dataDir: string;
  readonly logFile: string;
  /** The exact command line; `restart` runs it again. argv[0] is node, argv[1] the member script. */
  readonly command: readonly string[];
  readonly startedAt: string | null;
}

export interface ClusterFile {
  readonly version: typeof CLUSTER_FILE_VERSION;
  readonly dir: string;
  readonly host: string;
  readonly basePort: number;
  readonly createdAt: string;
  /** PID of a foreground `keel cluster up` that watches the cluster; null when detached. */
  readonly launcherPid: number | null;
  readonly members: readonly MemberRecord[];
}

/** The cluster file exists but cannot be used; the message says which file and what to do. */
export class ClusterFileError extends Error {
  override readonly name = 'ClusterFileError';
  readonly code = 'KEEL_CLUSTER_FILE';
}

export function clusterFilePath(dir: string): string {
  return join(dir, CLUSTER_FILE_NAME);
}

/** Reads `<dir>/cluster.json`; null when there is none. */
export function readClusterFile(dir: string): ClusterFile | null {
  const path = clusterFilePath(dir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ClusterFileError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return parseClusterFile(JSON.parse(text));
  } catch (err) {
    throw new ClusterFileError(
      `${path} is damaged (${(err as Error).message}); stop any members by hand and delete the file`,
    );
  }
}

/** Writes the file atomically (temp file + rename), so a reader never sees half of it. */
export function writeClusterFile(file: ClusterFile): void {
  makeDirectory(file.dir);
  const path = clusterFilePath(file.dir);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`);
  renameSync(tmp, path);
}

export function findMember(file: ClusterFile, id: string): MemberRecord | undefined {
  return file.members.find((m) => m.id === id);
}

export function withMember(
  file: ClusterFile,
  id: string,
  patch: Partial<Omit<MemberRecord, 'id'>>,
): ClusterFile {
  return { ...file, members: file.members.map((m) => (m.id === id ? { ...m, ...patch } : m)) };
}

type Json = Record<string, unknown>;

function obj(v: unknown, what: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what} is not an object`);
  return v as Json;
}
function str(o: Json, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new Error(`${what}.${key} is not a string`);
  return v;
}
function int(o: Json, key: string, what: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new Error(`${what}.${key} is not an integer`);
  return v;
}
function intOrNull(o: Json, key: string, what: string): number | null {
  return o[key] === null || o[key] === undefined ? null : int(o, key, what);
}
function strOrNull(o: Json, key: string, what: string): string | null {
  return o[key] === null || o[key] === undefined ? null : str(o, key, what);
}

const STATES: readonly string[] = Object.values(MemberState);

/** Validates parsed JSON as a cluster file; throws an Error naming the first bad field. */
export function parseClusterFile(json: unknown): ClusterFile {
  const o = obj(json, 'the file');
  if (o.version !== CLUSTER_FILE_VERSION) {
    throw new Error(`version ${JSON.stringify(o.version)} is not ${CLUSTER_FILE_VERSION}`);
  }
  if (!Array.isArray(o.members) || o.members.length === 0) throw new Error('members is not a non-empty list');
  const members = o.members.map((raw, i): MemberRecord => {
    const what = `members[${i}]`;
    const m = obj(raw, what);
    const state = str(m, 'state', what);
    if (!STATES.includes(state))
      throw new Error(`${what}.state '${state}' is not one of ${STATES.join(', ')}`);
    const ports = obj(m.ports, `${what}.ports`);
    if (!Array.isArray(m.command) || m.command.length < 2 || !m.command.every((a) => typeof a === 'string')) {
      throw new Error(`${what}.command is not a list of strings`);
    }
    return {
      id: memberId(str(m, 'id', what), what),
      pid: intOrNull(m, 'pid', what),
      pidStartTime: intOrNull(m, 'pidStartTime', what),
      state: state as MemberState,
      ports: {
        peer: int(ports, 'peer', `${what}.ports`),
        client: int(ports, 'client', `${what}.ports`),
        http: int(ports, 'http', `${what}.ports`),
      },
      dataDir: str(m, 'dataDir', what),
      logFile: str(m, 'logFile', what),
      command: m.command as string[],
      startedAt: strOrNull(m, 'startedAt', what),
    };
  });
  const ids = new Set(members.map((m) => m.id));
  if (ids.size !== members.length) throw new Error('member ids are not unique');
  return {
    version: CLUSTER_FILE_VERSION,
    dir: str(o, 'dir', 'the file'),
    host: str(o, 'host', 'the file'),
    basePort: int(o, 'basePort', 'the file'),
    createdAt: str(o, 'createdAt', 'the file'),
    launcherPid: intOrNull(o, 'launcherPid', 'the file'),
    members,
  };
}

function memberId(id: string, what: string): string {
  if (!isValidMemberId(id)) throw new Error(`${what}.id: ${new InvalidMemberIdError(id).message}`);
  return id;
}
