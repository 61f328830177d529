/** The message of anything thrown: an Error's message, else its text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The stack of anything thrown, for a last-resort report; its text when it has none. */
export function errorStack(err: unknown): string {
  return err instanceof Error && err.stack ? err.stack : String(err);
}
