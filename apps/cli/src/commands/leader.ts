/**
 * `keel leader move <id>`: leadership transfer (dissertation §3.10) through the leader's admin API
 * (`POST /leader`), waiting until <id> leads.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { InvalidMemberIdError, isValidMemberId } from '@keel/core';
import { adminJson } from '@keel/ops';
import { ClusterFileError } from '../cluster/ClusterFile.js';
import { ExitCode, type Io } from '../io.js';
import { adminAccess } from '../options/adminEndpoints.js';
import { parseDuration } from '../options/duration.js';
import { findLeader, MembersError } from './members.js';

export const LEADER_HELP = `keel leader — who leads, and handing leadership over

Usage:
  keel leader move <id>     the leader hands leadership to voter <id> (it catches <id> up first,
                            then tells it to campaign at once); waits until <id> leads. Use it
                            before maintenance on the leader's machine

Options:
  --admin-endpoints <host:port,...>
                            the members' HTTP admin endpoints (env KEEL_ADMIN_ENDPOINTS;
                            default: those of the cluster file; --endpoint is the old name)
  --dir <dir>               cluster directory (as for 'keel cluster'; env KEEL_CLUSTER_DIR)
  --timeout <duration>      give up after this long: 500ms, 5s, 2m (default 10s; a bare
                            number is seconds)
  --json                    one JSON document on stdout
  -h, --help                this help

Exit codes: 0 <id> leads, 1 failure (unknown id, not a voter, timeout), 2 usage error,
            4 no cluster running.`;

/** The flags of `keel leader move` (exported for shell completion). */
export const LEADER_OPTIONS = {
  'admin-endpoints': { type: 'string' },
  endpoint: { type: 'string' },
  dir: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** How often a transfer not yet done is asked for again (a leader abandons one after an election timeout). */
const RETRY_MS = 1000;

interface TransferReply {
  readonly ok: boolean;
  readonly reason?: string;
  readonly message?: string;
  readonly leaderHint?: string | null;
}

/** Moves leadership to `to`; resolves with the term it leads in, or throws MembersError. */
export async function moveLeader(
  endpoints: readonly string[],
  to: string,
  timeoutMs: number,
  progress: (line: string) => void,
): Promise<{ term: number; from: string | null }> {
  const deadline = performance.now() + timeoutMs;
  let first = await findLeader(endpoints, deadline);
  const from = first.view.leader;
  const member = first.view.members.find((m) => m.id === to);
  if (member === undefined) {
    throw new MembersError(
      `unknown member '${to}' (the members are ${first.view.members.map((m) => m.id).join(', ')})`,
      ExitCode.Failure,
    );
  }
  if (member.role !== 'voter') {
    throw new MembersError(
      `${to} is a learner, not a voter: only a voter can lead (promote it first: keel members promote ${to})`,
      ExitCode.Failure,
    );
  }
  let asked = Number.NEGATIVE_INFINITY;
  for (;;) {
    if (first.view.leader === to) return { term: first.view.term, from };
    if (performance.now() - asked >= RETRY_MS) {
      asked = performance.now();
      const r = await adminJson<TransferReply>(first.http, '/leader', 2000, { to });
      if (r !== null && r.status === 400) {
        throw new MembersError(`the leader refused: ${r.json.message ?? r.json.reason}`, ExitCode.Failure);
      }
      if (r?.status === 202) progress(`${first.view.leader} is handing leadership to ${to}`);
      // 421 (leadership moved meanwhile) or no answer: the next round asks the new leader.
    }
    if (performance.now() >= deadline) {
      throw new MembersError(
        `${to} did not take over within ${timeoutMs / 1000} s (the leader is ${first.view.leader}); a lagging or unreachable ${to} cannot: see 'keel members list'`,
        ExitCode.Failure,
      );
    }
    await sleep(50);
    try {
      first = await findLeader(endpoints, Math.min(deadline, performance.now() + 2000));
    } catch (err) {
      // An election between the old leader and the new one: ask again until the deadline.
      if (!(err instanceof MembersError) || performance.now() >= deadline) throw err;
    }
  }
}

export async function runLeaderCommand(argv: readonly string[], io: Io): Promise<ExitCode> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    io.out(LEADER_HELP);
    return sub === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  try {
    if (sub !== 'move') throw new MembersError(`unknown command '${sub}' (expected move)`, ExitCode.Usage);
    let parsed: {
      values: Partial<Record<keyof typeof LEADER_OPTIONS, string | boolean>>;
      positionals: string[];
    };
    try {
      parsed = parseArgs({ args: [...rest], options: LEADER_OPTIONS, allowPositionals: true, strict: true });
    } catch (err) {
      throw new MembersError(
        (err as Error).message.replace(/\. To specify a positional.*$/s, ''),
        ExitCode.Usage,
      );
    }
    const { values, positionals } = parsed;
    if (values.help === true) {
      io.out(LEADER_HELP);
      return ExitCode.Ok;
    }
    if (positionals.length !== 1) throw new MembersError(`'move' takes one <id>`, ExitCode.Usage);
    const to = positionals[0]!;
    if (!isValidMemberId(to)) throw new MembersError(new InvalidMemberIdError(to).message, ExitCode.Usage);
    const timeout = parseDuration(typeof values.timeout === 'string' ? values.timeout : '10s', '--timeout', {
      minMs: 1,
      maxMs: 3_600_000,
    });
    if (typeof values.timeout === 'boolean' || !timeout.ok) {
      throw new MembersError(timeout.ok ? '--timeout needs a value' : timeout.message, ExitCode.Usage);
    }
    const t = timeout.ms / 1000;
    const admin = adminAccess(values, io);
    if (!admin.ok) throw new MembersError(admin.message, admin.exitCode);
    const { endpoints } = admin;
    const json = values.json === true;
    const r = await moveLeader(endpoints, to, t * 1000, (line) => {
      if (!json) io.err(line);
    });
    if (json) io.out(JSON.stringify({ ok: true, leader: to, term: r.term, from: r.from }));
    else
      io.out(
        r.from === to
          ? `${to} already leads (term ${r.term})`
          : `${to} leads (term ${r.term}; was ${r.from})`,
      );
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof MembersError) {
      io.err(
        `keel leader ${sub}: ${err.message}${err.exitCode === ExitCode.Usage ? "; run 'keel leader --help'" : ''}`,
      );
      return err.exitCode;
    }
    if (err instanceof ClusterFileError) {
      io.err(`keel leader ${sub}: ${err.message}`);
      return ExitCode.Failure;
    }
    throw err;
  }
}
