import { errorMessage } from '../src/lib/errors';

/**
 * A bench command's way out when it is cut short (Ctrl-C, SIGTERM, its watchdog): the clean-ups registered so far
 * run, the last registered first, then the process exits 1. A clean-up that hangs does not keep it: after `graceMs`
 * it exits anyway.
 */
export class BenchAbort {
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  private started = false;

  constructor(private readonly graceMs: number) {
    process.on('SIGINT', () => void this.abort('interrupted'));
    process.on('SIGTERM', () => void this.abort('terminated'));
  }

  /** Whether the run is being cut short (an error thrown meanwhile is the abort's doing, not a failure to report). */
  get aborting(): boolean {
    return this.started;
  }

  onCleanup(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  /** Runs the clean-ups registered so far (each once), the last registered first; a failing one does not stop the rest. */
  async cleanUp(): Promise<void> {
    for (const c of this.cleanups.splice(0).reverse())
      await Promise.resolve()
        .then(c)
        .catch((err) => console.error(`cleanup failed: ${errorMessage(err)}`));
  }

  async abort(why: string): Promise<void> {
    // tsx relays a signal to this process again when this process is slow to acknowledge it (a busy machine): a
    // second signal must not end the run halfway through its clean-up (with `once`, it did, through tsx's default
    // handler).
    if (this.started) return void console.error(`bench: ${why} again; still cleaning up`);
    this.started = true;
    console.error(`bench: ${why}; cleaning up`);
    setTimeout(() => process.exit(1), this.graceMs).unref();
    await this.cleanUp();
    process.exit(1);
  }
}
