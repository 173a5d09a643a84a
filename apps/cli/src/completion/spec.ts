/**
 * What a completion script completes: commands, their subcommands and each one's flags, as the
 * parsers' own tables declare them, so a flag added to a parser is completed without more work.
 */

/** One parser's options table, in `node:util` parseArgs form. */
export type OptionTable = Readonly<
  Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string }>
>;

export interface CommandSpec {
  readonly name: string;
  /** Subcommand name → its options; for commands that take one (`cluster up`, `members add`). */
  readonly subcommands?: Readonly<Record<string, OptionTable>>;
  /** The options of a command without subcommands (`put`). */
  readonly options?: OptionTable;
  /** Options left out of completion: deprecated names still parsed for old scripts. */
  readonly hidden?: readonly string[];
}

/** Long flags `--name`, and their single-letter forms. */
export interface Flag {
  readonly long: string;
  readonly short: string | null;
  readonly takesValue: boolean;
}

export function flagsOf(table: OptionTable, hidden: readonly string[] = []): Flag[] {
  return Object.entries(table)
    .filter(([name]) => !hidden.includes(name))
    .map(([name, o]) => ({ long: name, short: o.short ?? null, takesValue: o.type === 'string' }));
}

/** The words a shell offers for one command line position: flags written out. */
export function flagWords(flags: readonly Flag[]): string[] {
  return flags.flatMap((f) => [`--${f.long}`, ...(f.short !== null ? [`-${f.short}`] : [])]);
}
