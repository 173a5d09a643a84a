/**
 * `keel members`: a cluster's configuration, and single-server changes to it (dissertation ch. 4),
 * through the members' HTTP admin endpoint (`GET`/`POST /members`, served by the leader).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { InvalidMemberIdError, isValidMemberId } from '@keel/core';
import {
  changeInEffect,
  type MemberChangeRequest,
  type MemberInfo,
  type MembersView,
  RETRYABLE_REFUSALS,
} from '@keel/node';
import { adminJson } from '@keel/ops';
import { ClusterFileError } from '../cluster/ClusterFile.js';
import { ExitCode, type Io } from '../io.js';
import { adminAccess, adminEndpoints } from '../options/adminEndpoints.js';
import { parseDuration } from '../options/duration.js';

export const MEMBERS_HELP = `keel members — a cluster's voters and learners, and changes to them

Usage:
  keel members list                         every member: role, addresses, replication progress
  keel members add <id> <host:port> [--client <host:port>] [--http <host:port>] [--learner]
                                            add the member whose peer endpoint is <host:port>
                                            (start it first: keel node --join ...). It joins as a
                                            learner (receives the log, never votes); unless
                                            --learner, it is promoted to voter once caught up.
  keel members promote <id> [--force | --no-wait]
                                            make a learner a voter once it has caught up: waits
                                            (up to --catch-up seconds) while it is more than 1,000
                                            entries behind the leader's log; --no-wait refuses at
                                            once instead, --force promotes it anyway
  keel members remove <id>                  remove a voter or a learner (a removed leader hands
                                            over to another voter once the change commits)

One change at a time: each waits until the leader has applied it. For a local cluster,
'keel cluster add-node' and 'keel cluster remove-node' also start and stop the process.

Options:
  --dir <dir>               cluster directory (as for 'keel cluster'; env KEEL_CLUSTER_DIR): the
                            members' HTTP addresses come from its cluster file (the default)
  --admin-endpoints <host:port,...>
                            or: the members' HTTP admin addresses (their 'keel node --http'), env
                            KEEL_ADMIN_ENDPOINTS; name them all (a member knows only its own and
                            those of members added with --http). --endpoint: old name, deprecated
  --timeout <duration>      give up after this long (default 10s; add also waits up to
                            --catch-up, default 2m, for the learner to catch up)
  --catch-up <duration>     see --timeout. Durations: 500ms, 5s, 2m, 1m30s; a bare number is seconds
  --force                   promote: even a learner that has not caught up (it then votes and
                            counts toward quorums before it holds the log)
  --json                    one JSON document on stdout
  -h, --help                this help

Members started with --admin-token-file want their token: it is read from the file
KEEL_ADMIN_TOKEN_FILE names, else from the cluster dir of 'keel cluster up --secure'.

Exit codes: 0 ok, 1 failure (refused, no leader, timeout), 2 usage error, 4 no cluster running.`;

const OPTIONS = {
  'admin-endpoints': { type: 'string' },
  /** Deprecated alias of --admin-endpoints (one warning line). */
  endpoint: { type: 'string' },
  dir: { type: 'string' },
  timeout: { type: 'string' },
  'catch-up': { type: 'string' },
  client: { type: 'string' },
  http: { type: 'string' },
  learner: { type: 'boolean' },
  force: { type: 'boolean' },
  'no-wait': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];
/** The options table of `keel members` (the completion scripts read it). */
export const MEMBERS_OPTIONS = OPTIONS;

export const MEMBERS_ACTIONS = ['list', 'add', 'promote', 'remove'] as const;
const ACTIONS = MEMBERS_ACTIONS;
type Action = (typeof ACTIONS)[number];

export type { MemberInfo } from '@keel/node';

interface ChangeReply {
  readonly ok: boolean;
  readonly index?: number;
  readonly members?: readonly MemberInfo[];
  readonly reason?: string;
  readonly message?: string;
  readonly leaderHint?: string | null;
  readonly leaderHttp?: string | null;
  readonly behind?: number;
}

export class MembersError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** The leader's refusal reason, when the leader refused (`learner-not-ready`, ...). */
    readonly reason: string | null = null,
  ) {
    super(message);
  }
}

const ADDRESS = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

/**
 * The members' HTTP endpoints for a command that takes one `--endpoint` (its own name there), else
 * the cluster file of `dir`. `keel members` itself resolves them with adminEndpoints
 * (`--admin-endpoints`, `KEEL_ADMIN_ENDPOINTS`); commands move over to it one by one.
 */
export function memberEndpoints(dir: string, endpoint: string | undefined): string[] {
  const r = adminEndpoints(
    { 'admin-endpoints': endpoint, dir },
    { out: () => undefined, err: () => undefined, env: {} },
  );
  if (!r.ok) throw new MembersError(r.message.replaceAll('--admin-endpoints', '--endpoint'), r.exitCode);
  return r.endpoints;
}

/** The leader's view and HTTP endpoint, asking every endpoint until one leads (bounded). */
export async function findLeader(
  endpoints: readonly string[],
  deadline: number,
): Promise<{ http: string; view: MembersView }> {
  let last = 'no member answered';
  for (;;) {
    const views = await Promise.all(endpoints.map((e) => adminJson<MembersView>(e, '/members', 1000)));
    for (const [i, v] of views.entries()) {
      if (v === null || v.status !== 200) continue;
      if (v.json.leader !== null && v.json.leader === v.json.id) return { http: endpoints[i]!, view: v.json };
      last =
        v.json.leader === null
          ? 'no leader elected'
          : `leader ${v.json.leader} is not among the HTTP endpoints asked, and they do not know its address (name every member's: --admin-endpoints host:port,... or KEEL_ADMIN_ENDPOINTS)`;
      // A follower knows the leader's HTTP endpoint from the configuration.
      const leaderHttp = v.json.members.find((m) => m.id === v.json.leader)?.http;
      if (leaderHttp && !endpoints.includes(leaderHttp)) {
        const lv = await adminJson<MembersView>(leaderHttp, '/members', 1000);
        if (lv?.status === 200 && lv.json.leader === lv.json.id) return { http: leaderHttp, view: lv.json };
      }
    }
    if (performance.now() >= deadline) throw new MembersError(`no leader found: ${last}`, ExitCode.Failure);
    await sleep(100);
  }
}

/**
 * Sends one change to the leader and waits until it is applied there. Retries while an earlier
 * change is still pending or leadership moves; refusals that retrying cannot fix fail at once.
 */
export async function changeMembers(
  endpoints: readonly string[],
  body: MemberChangeRequest,
  deadline: number,
): Promise<ChangeReply> {
  let last = '';
  let tried = false;
  for (;;) {
    const { http, view } = await findLeader(endpoints, deadline);
    // After an attempt whose outcome is unknown (a timeout, a leader that lost office, a removed
    // leader that never learns its removal committed), the leader's configuration tells.
    if (tried && changeInEffect(view, body))
      return { ok: true, index: view.commitIndex, members: view.members };
    tried = true;
    const r = await adminJson<ChangeReply>(
      http,
      '/members',
      Math.max(1000, deadline - performance.now()),
      body,
    );
    if (r?.json.ok) return r.json;
    const reason = r?.json.reason ?? 'unreachable';
    last = r === null ? `leader at ${http} did not answer` : `${reason}: ${r.json.message ?? ''}`;
    const transient = r === null || RETRYABLE_REFUSALS.includes(reason);
    if (reason === 'learner-not-ready' && r !== null) {
      throw new MembersError(
        `${body.id} is ${r.json.behind ?? 'too many'} entries behind the leader; promote it once it has caught up (its match in 'keel members list'), or use --force`,
        ExitCode.Failure,
        reason,
      );
    }
    if (!transient) throw new MembersError(`refused (${last})`, ExitCode.Failure, reason);
    if (performance.now() >= deadline) throw new MembersError(`gave up (${last})`, ExitCode.Failure);
    await sleep(100);
  }
}

/** Whether the leader's configuration already shows what `body` asks for. */
/**
 * Waits until learner `id` holds what the leader had committed when the wait began (so a busy
 * cluster's moving commit index cannot keep it waiting forever), reporting progress.
 */
export async function waitCaughtUp(
  endpoints: readonly string[],
  id: string,
  deadline: number,
  progress: (line: string) => void,
): Promise<void> {
  let target: number | null = null;
  let lastShown = -1;
  for (;;) {
    const { view } = await findLeader(endpoints, deadline);
    target ??= view.commitIndex;
    const m = view.members.find((x) => x.id === id);
    if (m === undefined) throw new MembersError(`${id} is no longer a member`, ExitCode.Failure);
    const match = m.match ?? 0;
    if (match >= target) return;
    const pct = target === 0 ? 100 : Math.floor((match / target) * 100);
    if (pct >= lastShown + 10) {
      progress(`${id} catching up: ${match}/${target} (${pct}%)`);
      lastShown = pct;
    }
    if (performance.now() >= deadline) {
      throw new MembersError(
        `${id} did not catch up in time (${match} of ${target}); it stays a learner`,
        ExitCode.Failure,
      );
    }
    await sleep(100);
  }
}

export interface AddOptions {
  readonly id: string;
  readonly peer: string;
  readonly client?: string;
  readonly http?: string;
  /** Stay a learner (no promotion). */
  readonly learner: boolean;
  readonly timeoutMs: number;
  readonly catchUpMs: number;
}

/** Adds a learner, waits for it to catch up and promotes it (unless `learner`). */
export async function addMember(
  endpoints: readonly string[],
  o: AddOptions,
  progress: (line: string) => void,
): Promise<ChangeReply> {
  const t0 = performance.now();
  const added = await changeMembers(
    endpoints,
    {
      action: 'add',
      id: o.id,
      peer: o.peer,
      learner: true,
      ...(o.client !== undefined ? { client: o.client } : {}),
      ...(o.http !== undefined ? { http: o.http } : {}),
    },
    t0 + o.timeoutMs,
  );
  progress(`${o.id} added as a learner at index ${added.index}`);
  if (o.learner) return added;
  const all = o.http !== undefined && !endpoints.includes(o.http) ? [...endpoints, o.http] : endpoints;
  return promoteWhenCaughtUp(all, o.id, o.timeoutMs, performance.now() + o.catchUpMs, progress);
}

/**
 * Promotes learner `id` once it has caught up: waits until it holds what the leader had committed,
 * asks for the promotion, and catches up again while a busy leader refuses it as behind (bounded
 * by `catchUpDeadline`; it then stays a learner).
 */
export async function promoteWhenCaughtUp(
  endpoints: readonly string[],
  id: string,
  timeoutMs: number,
  catchUpDeadline: number,
  progress: (line: string) => void,
): Promise<ChangeReply> {
  for (;;) {
    await waitCaughtUp(endpoints, id, catchUpDeadline, progress);
    try {
      const promoted = await changeMembers(
        endpoints,
        { action: 'promote', id },
        performance.now() + timeoutMs,
      );
      progress(`${id} promoted to voter at index ${promoted.index}`);
      return promoted;
    } catch (err) {
      // Caught up to where the leader was, but a busy leader moved on by more than the promotion
      // allows: catch up again (bounded by --catch-up).
      if (!(err instanceof MembersError) || err.reason !== 'learner-not-ready') throw err;
      if (performance.now() >= catchUpDeadline) {
        throw new MembersError(`${id} did not catch up in time; it stays a learner`, ExitCode.Failure);
      }
      progress(`${id} is still behind the leader; catching up again`);
    }
  }
}

/** `promote` without --force: at once if the learner is close enough, else once it has caught up. */
async function promote(
  endpoints: readonly string[],
  id: string,
  timeoutMs: number,
  catchUpMs: number,
  progress: (line: string) => void,
): Promise<ChangeReply> {
  const catchUpDeadline = performance.now() + catchUpMs;
  try {
    return await changeMembers(endpoints, { action: 'promote', id }, performance.now() + timeoutMs);
  } catch (err) {
    if (!(err instanceof MembersError) || err.reason !== 'learner-not-ready') throw err;
    progress(`${id} is behind the leader; waiting for it to catch up (up to ${catchUpMs / 1000} s)`);
  }
  return promoteWhenCaughtUp(endpoints, id, timeoutMs, catchUpDeadline, progress);
}

function table(members: readonly MemberInfo[], leader: string | null): string[] {
  const rows = members.map((m) => [
    m.id + (m.id === leader ? ' *' : ''),
    m.role,
    m.peer || '-',
    m.client || '-',
    m.http || '-',
    m.match === null ? '-' : String(m.match),
  ]);
  const head = ['id', 'role', 'peer', 'client', 'http', 'match'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

/** A duration flag (`500ms`, `5s`, `2m`; a bare number is seconds) in milliseconds. */
function duration(v: string | boolean | undefined, flag: string, dfltMs: number): number {
  if (typeof v !== 'string') return dfltMs;
  const r = parseDuration(v, `--${flag}`, { minMs: 1, maxMs: 24 * 3_600_000 });
  if (!r.ok) throw new MembersError(r.message, ExitCode.Usage);
  return r.ms;
}

export async function runMembersCommand(argv: readonly string[], io: Io): Promise<ExitCode> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    io.out(MEMBERS_HELP);
    return sub === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  try {
    if (!(ACTIONS as readonly string[]).includes(sub)) {
      throw new MembersError(`unknown command '${sub}' (expected ${ACTIONS.join(', ')})`, ExitCode.Usage);
    }
    const action = sub as Action;
    let values: Partial<Record<keyof typeof OPTIONS, string | boolean>>;
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: [...rest],
        options: OPTIONS,
        allowPositionals: true,
        strict: true,
      }));
    } catch (err) {
      throw new MembersError(
        (err as Error).message.replace(/\. To specify a positional.*$/s, ''),
        ExitCode.Usage,
      );
    }
    if (values.help === true) {
      io.out(MEMBERS_HELP);
      return ExitCode.Ok;
    }
    const arity = action === 'list' ? 0 : action === 'add' ? 2 : 1;
    if (positionals.length !== arity) {
      throw new MembersError(
        `'${action}' takes ${arity === 0 ? 'no arguments' : arity === 1 ? '<id>' : '<id> <host:port>'}`,
        ExitCode.Usage,
      );
    }
    if (
      action !== 'add' &&
      (values.client !== undefined || values.http !== undefined || values.learner !== undefined)
    ) {
      throw new MembersError(`--client, --http and --learner belong to 'add'`, ExitCode.Usage);
    }
    if (action !== 'promote' && (values.force !== undefined || values['no-wait'] !== undefined)) {
      throw new MembersError(`--force and --no-wait belong to 'promote'`, ExitCode.Usage);
    }
    if (values.force === true && values['no-wait'] === true) {
      throw new MembersError(`--force promotes without waiting already; give one of them`, ExitCode.Usage);
    }
    const id = positionals[0];
    if (id !== undefined && !isValidMemberId(id)) {
      throw new MembersError(new InvalidMemberIdError(id).message, ExitCode.Usage);
    }
    for (const [flag, v] of [
      ['client', values.client],
      ['http', values.http],
    ] as const) {
      if (v !== undefined && (typeof v !== 'string' || !ADDRESS.test(v))) {
        throw new MembersError(`--${flag} must be host:port, not '${String(v)}'`, ExitCode.Usage);
      }
    }
    const timeoutMs = duration(values.timeout, 'timeout', 10_000);
    const catchUpMs = duration(values['catch-up'], 'catch-up', 120_000);
    const admin = adminAccess(values, io);
    if (!admin.ok) throw new MembersError(admin.message, admin.exitCode);
    const { endpoints } = admin;
    const json = values.json === true;
    const progress = (line: string): void => {
      if (!json) io.err(line);
    };

    if (action === 'list') {
      const { view } = await findLeader(endpoints, performance.now() + timeoutMs);
      if (json) io.out(JSON.stringify(view));
      else {
        for (const l of table(view.members, view.leader)) io.out(l);
        io.out(`leader ${view.leader}, term ${view.term}, commit ${view.commitIndex}  (* = leader)`);
      }
      return ExitCode.Ok;
    }
    let reply: ChangeReply;
    if (action === 'add') {
      const peer = positionals[1]!;
      if (!ADDRESS.test(peer))
        throw new MembersError(`the peer address must be host:port, not '${peer}'`, ExitCode.Usage);
      reply = await addMember(
        endpoints,
        {
          id: id!,
          peer,
          ...(typeof values.client === 'string' ? { client: values.client } : {}),
          ...(typeof values.http === 'string' ? { http: values.http } : {}),
          learner: values.learner === true,
          timeoutMs,
          catchUpMs,
        },
        progress,
      );
    } else if (action === 'promote' && values.force !== true && values['no-wait'] !== true) {
      reply = await promote(endpoints, id!, timeoutMs, catchUpMs, progress);
    } else {
      const force = action === 'promote' && values.force === true ? { force: true } : {};
      reply = await changeMembers(endpoints, { action, id: id!, ...force }, performance.now() + timeoutMs);
    }
    if (json) io.out(JSON.stringify(reply));
    else {
      const members = reply.members ?? [];
      io.out(
        `${action === 'add' ? 'added' : action === 'promote' ? 'promoted' : 'removed'} ${id} (index ${reply.index})`,
      );
      io.out(
        `voters: ${members
          .filter((m) => m.role === 'voter')
          .map((m) => m.id)
          .join(', ')}` +
          `; learners: ${
            members
              .filter((m) => m.role === 'learner')
              .map((m) => m.id)
              .join(', ') || '(none)'
          }`,
      );
    }
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof MembersError) {
      io.err(
        `keel members${sub !== undefined ? ` ${sub}` : ''}: ${err.message}${err.exitCode === ExitCode.Usage ? "; run 'keel members --help'" : ''}`,
      );
      return err.exitCode;
    }
    if (err instanceof ClusterFileError) {
      io.err(`keel members: ${err.message}`);
      return ExitCode.Failure;
    }
    throw err;
  }
}
