// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell script text, where ${...} is the shell's own expansion.
import { type CommandSpec, flagsOf, flagWords } from './spec.js';

/** Top-level flags of `keel` itself. */
const TOP_FLAGS = ['--help', '--version', '-h', '-v'];

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** `keel completion <shell>`: a script to source (bash, zsh) or to save (fish). */
export function completionScript(shell: Shell, specs: readonly CommandSpec[]): string {
  return shell === 'bash' ? bash(specs) : shell === 'zsh' ? zsh(specs) : fish(specs);
}

/** One `case` arm per command: subcommands at the second word, then that subcommand's flags. */
function caseArms(
  specs: readonly CommandSpec[],
  pos: string,
  subAt: number,
  sub: string,
  indent: string,
): string[] {
  const lines: string[] = [];
  for (const spec of specs) {
    if (spec.subcommands !== undefined) {
      const subs = Object.keys(spec.subcommands);
      lines.push(`${indent}${spec.name})`);
      lines.push(`${indent}  if (( ${pos} == ${subAt} )); then words="${subs.join(' ')}"`);
      lines.push(`${indent}  else case "${sub}" in`);
      for (const [name, table] of Object.entries(spec.subcommands)) {
        lines.push(`${indent}    ${name}) words="${flagWords(flagsOf(table, spec.hidden)).join(' ')}" ;;`);
      }
      lines.push(`${indent}  esac; fi ;;`);
    } else {
      lines.push(
        `${indent}${spec.name}) words="${flagWords(flagsOf(spec.options ?? {}, spec.hidden)).join(' ')}" ;;`,
      );
    }
  }
  return lines;
}

function bash(specs: readonly CommandSpec[]): string {
  return [
    '# keel completion for bash. Load it with:  source <(keel completion bash)',
    '# or save it as ~/.local/share/bash-completion/completions/keel',
    '_keel() {',
    '  local cur=${COMP_WORDS[COMP_CWORD]} words=""',
    '  if (( COMP_CWORD == 1 )); then',
    `    words="${[...specs.map((s) => s.name), ...TOP_FLAGS].join(' ')}"`,
    '  else',
    '    case "${COMP_WORDS[1]}" in',
    ...caseArms(specs, 'COMP_CWORD', 2, '${COMP_WORDS[2]}', '      '),
    '    esac',
    '  fi',
    '  # Offer subcommands, or flags once a dash is typed; anything else falls back to file names.',
    '  if [[ $cur == -* || ( -n $words && $words != -* ) ]]; then',
    '    COMPREPLY=( $(compgen -W "$words" -- "$cur") )',
    '  fi',
    '}',
    'complete -o default -F _keel keel',
    '',
  ].join('\n');
}

function zsh(specs: readonly CommandSpec[]): string {
  return [
    '#compdef keel',
    '# keel completion for zsh. Load it with:  source <(keel completion zsh)  (after compinit)',
    '# or save it as _keel in a directory of $fpath',
    '_keel() {',
    '  local words_str=""',
    '  if (( CURRENT == 2 )); then',
    `    words_str="${[...specs.map((s) => s.name), ...TOP_FLAGS].join(' ')}"`,
    '  else',
    '    case "${words[2]}" in',
    ...caseArms(specs, 'CURRENT', 3, '${words[3]}', '      ').map((l) =>
      l.replaceAll('words="', 'words_str="'),
    ),
    '    esac',
    '  fi',
    '  local -a candidates',
    '  candidates=(${=words_str})',
    '  if [[ $PREFIX == -* || ( -n $words_str && $words_str != -* ) ]]; then',
    '    compadd -- $candidates',
    '  else',
    '    _files',
    '  fi',
    '}',
    'if (( $+functions[compdef] )); then compdef _keel keel; fi',
    '',
  ].join('\n');
}

function fish(specs: readonly CommandSpec[]): string {
  const lines = [
    '# keel completion for fish. Load it with:  keel completion fish | source',
    '# or save it as ~/.config/fish/completions/keel.fish',
    '# __keel_on W...: the words after `keel` start with W...; __keel_at W...: they are exactly W...',
    'function __keel_on',
    '    set -l t (commandline -opc)',
    '    test (count $t) -gt (count $argv); or return 1',
    '    for i in (seq (count $argv))',
    '        set -l j (math $i + 1)',
    '        test "$t[$j]" = "$argv[$i]"; or return 1',
    '    end',
    'end',
    'function __keel_at',
    '    set -l t (commandline -opc)',
    '    test (count $t) -eq (math (count $argv) + 1); and __keel_on $argv',
    'end',
    `complete -c keel -f -n '__keel_at' -a '${specs.map((s) => s.name).join(' ')}'`,
    "complete -c keel -f -n '__keel_at' -s h -l help",
    "complete -c keel -f -n '__keel_at' -s v -l version",
  ];
  const flagLines = (cond: string, table: Parameters<typeof flagsOf>[0], hidden?: readonly string[]) =>
    flagsOf(table, hidden).map(
      (f) =>
        `complete -c keel -n '${cond}'${f.short !== null ? ` -s ${f.short}` : ''} -l ${f.long}${f.takesValue ? ' -r' : ''}`,
    );
  for (const spec of specs) {
    if (spec.subcommands !== undefined) {
      lines.push(
        `complete -c keel -f -n '__keel_at ${spec.name}' -a '${Object.keys(spec.subcommands).join(' ')}'`,
      );
      for (const [name, table] of Object.entries(spec.subcommands)) {
        lines.push(...flagLines(`__keel_on ${spec.name} ${name}`, table, spec.hidden));
      }
    } else {
      lines.push(...flagLines(`__keel_on ${spec.name}`, spec.options ?? {}, spec.hidden));
    }
  }
  return `${lines.join('\n')}\n`;
}
