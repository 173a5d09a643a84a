import { repoRoot } from '../cluster/paths.js';
import type { Env } from './env.js';

/**
 * How to run this CLI again, for the hints it prints: `pnpm keel` when it was started through the
 * checkout's package scripts (`pnpm keel`, `npm start`: the package manager names the script in
 * `npm_lifecycle_event`), `keel` otherwise, also when the installed `keel` runs inside a checkout.
 */
export function cliName(env: Env): string {
  const script = env.npm_lifecycle_event;
  return (script === 'keel' || script === 'start') && repoRoot() !== null ? 'pnpm keel' : 'keel';
}

/**
 * The flags of this invocation that choose the cluster (`--dir`, `--endpoints`), spelled so that
 * a pasted hint targets the same cluster: ` --dir 'my dir'`, or '' when none was given (the
 * environment variables still hold in the same shell).
 */
export function targetFlags(values: Readonly<Record<string, string | boolean | undefined>>): string {
  let s = '';
  for (const flag of ['dir', 'endpoints', 'admin-endpoints'] as const) {
    const v = values[flag];
    if (typeof v === 'string') s += ` --${flag} ${shellQuote(v)}`;
  }
  return s;
}

/** `text` as one shell word: bare when it holds only safe characters, else in single quotes. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
