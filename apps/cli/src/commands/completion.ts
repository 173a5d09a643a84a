/**
 * `keel completion bash|zsh|fish`: a shell completion script, generated from the option tables
 * the parsers use (so it cannot drift from them; test/completion.test.ts checks every option).
 */

import { completionScript, SHELLS, type Shell } from '../completion/shells.js';
import type { CommandSpec } from '../completion/spec.js';
import { ExitCode, type Io } from '../io.js';
import { OPTIONS as CLUSTER_OPTIONS } from './cluster/context.js';
import { DASHBOARD_OPTIONS } from './dashboard.js';
import { KV_COMMANDS, OPTIONS as KV_OPTIONS } from './kv/options.js';
import { LEADER_OPTIONS } from './leader.js';
import { MEMBERS_ACTIONS, MEMBERS_OPTIONS } from './members.js';
import { SNAPSHOT_ACTIONS, SNAPSHOT_OPTIONS } from './snapshot.js';

export const COMPLETION_HELP = `keel completion — a shell completion script for keel

Usage: keel completion bash|zsh|fish

  bash   source <(keel completion bash)          (or save it in ~/.local/share/bash-completion/completions/keel)
  zsh    source <(keel completion zsh)           (after compinit; or save it as _keel in your $fpath)
  fish   keel completion fish | source           (or save it as ~/.config/fish/completions/keel.fish)

It completes commands, subcommands and their flags. keel bench, chaos and node complete their
subcommands only (their flags: keel bench --help, keel chaos --help, keel node --help).`;

const NO_OPTIONS = {} as const;
const HELP_ONLY = { help: { type: 'boolean', short: 'h' } } as const;

/** Every command of `keel`, in the order of `keel --help`. */
export const COMMAND_SPECS: readonly CommandSpec[] = [
  { name: 'cluster', subcommands: CLUSTER_OPTIONS },
  ...KV_COMMANDS.map((name) => ({ name, options: KV_OPTIONS[name] })),
  {
    name: 'members',
    subcommands: Object.fromEntries(MEMBERS_ACTIONS.map((a) => [a, MEMBERS_OPTIONS])),
    hidden: ['endpoint'],
  },
  { name: 'leader', subcommands: { move: LEADER_OPTIONS } },
  { name: 'dashboard', options: DASHBOARD_OPTIONS },
  {
    name: 'snapshot',
    subcommands: Object.fromEntries(SNAPSHOT_ACTIONS.map((a) => [a, SNAPSHOT_OPTIONS])),
  },
  {
    name: 'bench',
    subcommands: Object.fromEntries(
      ['write', 'read', 'mixed', 'txn', 'watch', 'election', 'snapshot', 'failover', 'report'].map((s) => [
        s,
        HELP_ONLY,
      ]),
    ),
  },
  { name: 'chaos', options: HELP_ONLY },
  { name: 'node', options: HELP_ONLY },
  { name: 'completion', subcommands: Object.fromEntries(SHELLS.map((s) => [s, NO_OPTIONS])) },
];

export function runCompletionCommand(argv: readonly string[], io: Io): ExitCode {
  const [shell, ...rest] = argv;
  if (shell === '-h' || shell === '--help' || shell === 'help') {
    io.out(COMPLETION_HELP);
    return ExitCode.Ok;
  }
  if (shell === undefined || !(SHELLS as readonly string[]).includes(shell) || rest.length > 0) {
    io.err(
      `keel completion: ${shell === undefined ? 'missing the shell' : `unknown shell '${[shell, ...rest].join(' ')}'`} (expected bash, zsh or fish); run 'keel completion --help'`,
    );
    return ExitCode.Usage;
  }
  (io.write ?? ((t: string) => io.out(t.replace(/\n$/, ''))))(
    completionScript(shell as Shell, COMMAND_SPECS),
  );
  return ExitCode.Ok;
}
