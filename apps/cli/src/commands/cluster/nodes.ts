import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { busyPorts, memberPorts } from '@keel/ops';
import { type ClusterFile, writeClusterFile } from '../../cluster/ClusterFile.js';
import { describeStop, memberId, newMemberRecord, startMember, stopMember } from '../../cluster/launcher.js';
import { ExitCode } from '../../io.js';
import { addMember, changeMembers, MembersError } from '../members.js';
import {
  CommandError,
  type Context,
  durationOption,
  emit,
  flagOf,
  graceMs,
  isLive,
  noCluster,
  requireFile,
  requireMember,
  withFlag,
} from './context.js';

export function membersEndpoints(file: ClusterFile): string[] {
  return file.members.filter(isLive).map((m) => `${file.host}:${m.ports.http}`);
}

export function changeError(err: unknown): never {
  if (err instanceof MembersError) throw new CommandError(err.message, err.exitCode);
  throw err;
}

export async function addNode(ctx: Context): Promise<ExitCode> {
  const file = requireFile(ctx);
  const live = file.members.filter(isLive);
  if (live.length === 0) throw noCluster(ctx);
  // Never reuse an id: a removed member's id may still count as a voter in a stale configuration
  // somewhere, so a new member under it could vote with an empty log. Removed members keep their
  // data dirs (until down --clean), so the directory names remember them.
  const used = [...file.members.map((m) => m.id), ...readdirSync(ctx.dir)].map((id) =>
    Number(/^n(\d+)$/.exec(id)?.[1] ?? 0),
  );
  const index = Math.max(0, ...used) + 1;
  if (index > 99) throw new CommandError('no member index left (n1..n99)', ExitCode.Failure);
  const id = memberId(index);
  const ports = memberPorts(file.basePort, index);
  if (ports.http > 65535)
    throw new CommandError(`${id} would need port ${ports.http}: above 65535`, ExitCode.Failure);
  const busy = await busyPorts(file.host, [ports.peer, ports.client, ports.http]);
  if (busy.length > 0) {
    throw new CommandError(
      `port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} for ${id} already in use on ${file.host}`,
      ExitCode.Failure,
    );
  }
  // The new member's command line is a member's with its own id, ports and data dir, every
  // member (itself included) in --peers/--clients, and --join: it takes the configuration from
  // the leader instead of bootstrapping one.
  const template = live[0]!.command;
  if (template.includes('--curve-secret-key-file')) {
    // Members read their peer keys at start: a new member's key would be refused by the others.
    throw new CommandError(
      `add-node does not support a --secure cluster yet (members read their peer keys at start)`,
      ExitCode.Failure,
    );
  }
  const addr = (m: { id: string; ports: { peer: number; client: number } }, kind: 'peer' | 'client') =>
    `${m.id}=${file.host}:${m.ports[kind]}`;
  const everyone = [...file.members, { id, ports }];
  const dataDir = join(ctx.dir, id);
  let command = withFlag(template, '--id', id);
  command = withFlag(command, '--peers', everyone.map((m) => addr(m, 'peer')).join(','));
  if (flagOf(template, '--clients') !== undefined)
    command = withFlag(command, '--clients', everyone.map((m) => addr(m, 'client')).join(','));
  command = withFlag(command, '--http', `${file.host}:${ports.http}`);
  command = withFlag(command, '--data-dir', dataDir);
  if (!command.includes('--join')) command.push('--join');
  const record = newMemberRecord(id, ports, dataDir, command);
  const started = await startMember(record, {
    env: ctx.env,
    ...(ctx.io.onSpawn ? { onSpawn: ctx.io.onSpawn } : {}),
  });
  const latest = requireFile(ctx);
  writeClusterFile({ ...latest, members: [...latest.members, started] });
  const lines = [`${id} started (pid ${started.pid}); log: ${started.logFile}`];
  if (!ctx.json) ctx.io.out(lines[0]!);
  const timeoutMs = durationOption(ctx, 'timeout', 10_000, { minMs: 1, maxMs: 3_600_000 });
  const reply = await addMember(
    membersEndpoints(latest),
    {
      id,
      peer: `${file.host}:${ports.peer}`,
      client: `${file.host}:${ports.client}`,
      http: `${file.host}:${ports.http}`,
      learner: ctx.values.learner === true,
      timeoutMs,
      catchUpMs: Math.max(timeoutMs, 120_000),
    },
    (line) => {
      if (!ctx.json) ctx.io.out(line);
    },
  ).catch(changeError);
  emit(
    ctx,
    {
      id,
      pid: started.pid,
      action: 'added',
      role: ctx.values.learner === true ? 'learner' : 'voter',
      index: reply.index,
    },
    [`${id} is a ${ctx.values.learner === true ? 'learner' : 'voter'} of the cluster`],
  );
  return ExitCode.Ok;
}

export async function removeNode(ctx: Context): Promise<ExitCode> {
  const file = requireFile(ctx);
  const m = requireMember(ctx, file);
  const timeoutMs = durationOption(ctx, 'timeout', 10_000, { minMs: 1, maxMs: 3_600_000 });
  const others = file.members.filter((x) => x.id !== m.id && isLive(x));
  if (others.length === 0)
    throw new CommandError(`${m.id} is the last running member; use 'cluster down'`, ExitCode.Failure);
  const reply = await changeMembers(
    membersEndpoints(file),
    { action: 'remove', id: m.id },
    performance.now() + timeoutMs,
  ).catch(changeError);
  const lines = [`${m.id} removed from the configuration (index ${reply.index})`];
  if (isLive(m)) {
    const outcome = await stopMember(m, graceMs(ctx));
    lines.push(describeStop(m.id, m.pid, outcome));
  }
  const latest = requireFile(ctx);
  writeClusterFile({ ...latest, members: latest.members.filter((x) => x.id !== m.id) });
  lines.push(`its data dir ${m.dataDir} is kept`);
  emit(ctx, { id: m.id, action: 'removed', index: reply.index }, lines);
  return ExitCode.Ok;
}

// ---------------------------------------------------------------------------------------------
// status, logs
