import { existsSync } from 'node:fs';
import { fileSize, followFile, logPrettifier, tailLines } from '../../cluster/logs.js';
import { ExitCode } from '../../io.js';
import { CommandError, type Context, intOption, requireFile, requireMember } from './context.js';

export async function logs(ctx: Context): Promise<ExitCode> {
  const file = requireFile(ctx);
  const m = requireMember(ctx, file);
  const count = ctx.values.lines === undefined ? null : intOption(ctx, 'lines', 0, 0, 10_000_000);
  const pretty = ctx.values.raw !== true && ctx.io.isTTY === true;
  const prettify = pretty ? logPrettifier(ctx.env.NO_COLOR === undefined) : null;
  const show = (line: string): void => ctx.io.out(prettify === null ? line : prettify(line));
  if (!existsSync(m.logFile) && ctx.values.follow !== true) {
    throw new CommandError(`member ${m.id} has no log yet (${m.logFile})`, ExitCode.Failure);
  }
  const from = fileSize(m.logFile);
  for (const line of tailLines(m.logFile, count)) show(line);
  if (ctx.values.follow === true) await followFile(m.logFile, from, show, ctx.stop);
  return ExitCode.Ok;
}
