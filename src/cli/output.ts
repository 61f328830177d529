/** Results go to stdout; progress, hints and errors to stderr. */
export const out = (text = '') => void process.stdout.write(`${text}\n`);
export const err = (text = '') => void process.stderr.write(`${text}\n`);
export const terminalWidth = () => (process.stdout.isTTY ? process.stdout.columns : undefined);
