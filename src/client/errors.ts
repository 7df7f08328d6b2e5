/** The errors a REST client of the coordinator meets, with the exit codes the `koubou` command gives them. */

export const EXIT = {
  /** The command did what was asked; a followed task completed. */
  ok: 0,
  /** A followed task failed or was cancelled, the API refused, or the server could not be reached. */
  failed: 1,
  /** The command line is wrong: unknown command, missing argument, bad flag value. */
  usage: 2,
  /** Ctrl-C while following a task (128 + SIGINT). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line on stderr before exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failed,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A wrong command line; the entry point prints the command's usage after the message. */
export class UsageError extends CliError {
  constructor(
    message: string,
    readonly command: string | null = null,
  ) {
    super(message, EXIT.usage);
  }
}

/** The API answered with {error: {code, message, field?}}. */
export class ApiError extends CliError {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    readonly apiMessage: string,
    readonly field?: string,
  ) {
    super(`${code}: ${apiMessage}`);
  }
}

/** No connection could be made (or it broke) to the coordinator. */
export class Unreachable extends CliError {
  constructor(url: string, reason: string) {
    super(`cannot reach koubou at ${url}: ${reason}`);
  }
}
