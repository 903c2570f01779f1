/**
 * The CLI's exit codes (README, "The gantry CLI"): scripts branch on them, so they never change
 * meaning. Every failure leaves as a CliError and is printed as one line by main.ts.
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** The server answered with an error (its `error.type` is printed), or could not be reached. */
  server: 1,
  /** The command line or a file it names is wrong: unknown option, missing folder, invalid gantry.yml. */
  usage: 2,
  /** No URL or token configured, or the server refused the token (401 Unauthorized, 403 Forbidden). */
  auth: 3,
  /** `invoke`: the function itself failed (X-Gantry-Function-Error). */
  functionError: 4,
  /** `up`: the plan was not confirmed (answered no, or no terminal to ask on and no `--yes`). */
  notConfirmed: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** The server's `error.type`, printed before the message. */
    readonly type?: string,
  ) {
    super(message);
  }
}

export function usageError(message: string): CliError {
  return new CliError(EXIT.usage, message);
}
