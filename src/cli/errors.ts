/** The command line was wrong; printed with a pointer to the help, exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly helpFor?: string,
  ) {
    super(message);
  }
}

/** A failure whose message says it all; exit 1. */
export class CliError extends Error {}
