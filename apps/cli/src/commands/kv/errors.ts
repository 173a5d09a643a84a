import { ExitCode } from '../../io.js';

/** A command's failure: one line on stderr and this exit code. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

/** A usage mistake; the message gets "; run 'keel <command> --help'" appended. */
export const usage = (message: string): CommandError => new CommandError(message, ExitCode.Usage);
