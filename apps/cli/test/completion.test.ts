import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { OPTIONS as CLUSTER_OPTIONS, SUBCOMMANDS } from '../src/commands/cluster/context.js';
import { COMMAND_SPECS } from '../src/commands/completion.js';
import { KV_COMMANDS, OPTIONS as KV_OPTIONS, LEASE_SUBCOMMANDS } from '../src/commands/kv/options.js';
import { MEMBERS_ACTIONS, MEMBERS_OPTIONS } from '../src/commands/members.js';
import { ExitCode, HELP, runCli } from '../src/index.js';
import { capture } from './helpers.js';

type Table = Readonly<Record<string, { readonly type: string; readonly short?: string }>>;

/** Every command line position the parsers know: [command, subcommand?], with its options table. */
const PARSERS: readonly { words: string[]; table: Table; deprecated?: readonly string[] }[] = [
  ...SUBCOMMANDS.map((s) => ({ words: ['cluster', s], table: CLUSTER_OPTIONS[s] as Table })),
  ...KV_COMMANDS.filter((c) => c !== 'lease').map((c) => ({ words: [c], table: KV_OPTIONS[c] as Table })),
  ...LEASE_SUBCOMMANDS.map((s) => ({ words: ['lease', s], table: KV_OPTIONS.lease as Table })),
  ...MEMBERS_ACTIONS.map((a) => ({
    words: ['members', a],
    table: MEMBERS_OPTIONS,
    deprecated: ['endpoint'],
  })),
];

async function script(shell: string): Promise<string> {
  let text = '';
  const c = capture({ write: (t) => (text += t) });
  expect(await runCli(['completion', shell], c.io)).toBe(ExitCode.Ok);
  expect(c.err).toEqual([]);
  return text;
}

/**
 * The script's lines for one command (bash and zsh: the `case` arm of `words[0]` when it has
 * subcommands, since two commands may share a subcommand name such as `list`).
 */
function blockOf(text: string, words: readonly string[], shell: string): string[] {
  const lines = text.split('\n');
  if (shell === 'fish' || words.length < 2) return lines;
  const start = lines.findIndex((l) => l.trim() === `${words[0]})`);
  if (start < 0) return lines;
  const indent = lines[start]!.length - lines[start]!.trimStart().length;
  const end = lines.findIndex(
    (l, i) => i > start && l.length - l.trimStart().length === indent && /^[a-z-]+\)/.test(l.trim()),
  );
  return lines.slice(start, end < 0 ? undefined : end);
}

const has = (program: string): boolean => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;

/** The words bash offers after `keel <words> <cur>`, by running the script's function in bash. */
function bashComplete(text: string, words: readonly string[], cur: string): string[] {
  const line = ['keel', ...words, cur].map((w) => `'${w}'`).join(' ');
  const r = spawnSync(
    'bash',
    [
      '-c',
      `${text}\nCOMP_WORDS=(${line}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _keel; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter((w) => w !== '');
}

describe('keel completion', () => {
  it('every parser table is in the completion table, so a new command cannot be left out', () => {
    const specWords = COMMAND_SPECS.flatMap((s) =>
      s.subcommands !== undefined ? Object.keys(s.subcommands).map((sub) => `${s.name} ${sub}`) : [s.name],
    );
    for (const p of PARSERS) expect(specWords).toContain(p.words.join(' '));
  });

  it('every command of keel --help is completed, so a new command cannot be left out', () => {
    const commands = HELP.slice(HELP.indexOf('Commands:'), HELP.indexOf('Options:'))
      .split('\n')
      .map((l) => /^ {2}([a-z][a-z|-]*)/.exec(l)?.[1])
      .filter((w): w is string => w !== undefined)
      .flatMap((w) => w.split('|'));
    expect(commands).toContain('cluster');
    expect(commands).toContain('scan');
    expect(COMMAND_SPECS.map((s) => s.name).sort()).toEqual([...new Set(commands)].sort());
  });

  it.each(['bash', 'zsh', 'fish'])('the %s script names every option of every command', async (shell) => {
    const text = await script(shell);
    for (const p of PARSERS) {
      for (const [name, o] of Object.entries(p.table)) {
        const deprecated = p.deprecated?.includes(name) === true;
        // fish declares each flag on its own line; bash and zsh list the words of one position.
        const lines = blockOf(text, p.words, shell).filter((l) =>
          shell === 'fish'
            ? l.includes(`'__keel_on ${p.words.join(' ')}'`)
            : new RegExp(`^\\s*${p.words.at(-1)}\\) words(_str)?=`).test(l),
        );
        const spelled = shell === 'fish' ? ` -l ${name}` : ` --${name}`;
        const found = lines.some((l) => l.includes(spelled) || l.includes(`"--${name}`));
        expect(found, `${shell}: keel ${p.words.join(' ')} --${name}`).toBe(!deprecated);
        if (o.short !== undefined && !deprecated) {
          const short = shell === 'fish' ? ` -s ${o.short}` : ` -${o.short}`;
          expect(
            lines.some((l) => l.includes(short)),
            `${shell}: keel ${p.words.join(' ')} -${o.short}`,
          ).toBe(true);
        }
      }
    }
  });

  it.skipIf(!has('bash'))('bash completes commands, subcommands and exactly the parser flags', async () => {
    const text = await script('bash');
    expect(bashComplete(text, [], 'c')).toEqual(['cluster', 'cas', 'chaos', 'completion']);
    expect(bashComplete(text, ['cluster'], '')).toEqual([...SUBCOMMANDS]);
    expect(bashComplete(text, ['members'], '')).toEqual([...MEMBERS_ACTIONS]);
    for (const p of PARSERS) {
      const offered = bashComplete(text, p.words, '--').sort();
      const expected = Object.keys(p.table)
        .filter((n) => !p.deprecated?.includes(n))
        .map((n) => `--${n}`)
        .sort();
      expect(offered, `keel ${p.words.join(' ')} --`).toEqual(expected);
    }
  });

  it.skipIf(!has('fish'))('fish loads the script and completes flags', async () => {
    const text = await script('fish');
    const r = spawnSync(
      'fish',
      ['--no-config', '-c', `${text}\ncomplete -C'keel cluster up --de' | cut -f1`],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['--detach']);
  });

  it.skipIf(!has('zsh'))('zsh parses the script', async () => {
    const r = spawnSync('zsh', ['-f', '-n'], { input: await script('zsh'), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('refuses an unknown shell in one line (exit 2)', async () => {
    const c = capture();
    expect(await runCli(['completion', 'tcsh'], c.io)).toBe(ExitCode.Usage);
    expect(c.err).toEqual([
      "keel completion: unknown shell 'tcsh' (expected bash, zsh or fish); run 'keel completion --help'",
    ]);
  });
});
