import type { ExitCode } from './exit-codes.ts';

/**
 * An error the CLI reports on stderr and turns into an exit code. `code` is the server's error code
 * (`SLUICE_…`) when the server reported one; the message never contains the token.
 */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly code?: string,
    /** What the CLI was doing, e.g. `cannot submit the job`. */
    readonly context?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }

  /** The line printed on stderr: `context: CODE: message`. */
  describe(): string {
    return [this.context, this.code, this.message].filter(Boolean).join(': ');
  }
}
