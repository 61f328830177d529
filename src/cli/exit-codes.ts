/** The CLI's exit codes, listed in the main help; scripts act on them. */
export const EXIT = {
  ok: 0,
  /** The command ran and failed, or a followed campaign ended failed or cancelled. */
  failed: 1,
  usage: 2,
  /** A followed campaign paused (by itself or an operator): it needs a person. */
  paused: 3,
  interrupted: 130,
} as const;
