import { chromium, type Browser, type LaunchOptions } from 'playwright-core';

/**
 * Debian's `chromium` package (`.ci/run` installs it): playwright-core cannot download its own browser here.
 * `CHROMIUM_PATH` points elsewhere on a developer machine.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Tests run as root (no sandbox possible) on a closed network, so everything that phones home is off.
 * `--disable-dev-shm-usage`: containers often mount a 64 MB /dev/shm, too small for Chromium; Debian's launcher
 * script is meant to add this flag itself but its check can fail, so it is set here.
 */
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Launches headless Chromium; the caller closes it. */
export function launchBrowser(opts: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    ...opts,
    args: [...ARGS, ...(opts.args ?? [])],
  });
}
