import { CliError } from './errors';

/**
 * A password for `operators add` and `reset-password`, never from the command line (it would sit in the shell's
 * history and in `ps`): piped on standard input (`--password-stdin`, or whenever stdin is not a terminal), else
 * typed at a prompt that does not echo, twice.
 */
export async function readPassword(opts: { fromStdin: boolean; signal: AbortSignal }): Promise<string> {
  const stdin = process.stdin;
  if (opts.fromStdin || !stdin.isTTY) return stripNewline(await readAll(opts.signal));
  const first = await prompt('Password (at least 12 characters): ', opts.signal);
  const again = await prompt('Same password again: ', opts.signal);
  if (first !== again) throw new CliError('the two passwords differ');
  return first;
}

/** One line of piped input: a script's `echo "$PW" |` ends with a newline that is not part of the password. */
function stripNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

async function readAll(signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    if (signal.aborted) throw new CliError('interrupted');
    chunks.push(chunk as Buffer);
    if (chunks.reduce((n, c) => n + c.length, 0) > 8192) throw new CliError('the password on stdin is too long');
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from the terminal in raw mode, echoing nothing. */
function prompt(question: string, signal: AbortSignal): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((ok, fail) => {
    let typed = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) fail(err);
      else ok(typed);
    };
    const onData = (data: Buffer) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        // Raw mode turns Ctrl-C and Ctrl-D into characters: honour them.
        if (ch === '\u0003' || ch === '\u0004' || signal.aborted) return done(new CliError('interrupted'));
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
