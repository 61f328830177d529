import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The name the client gave in EHLO/HELO. */
  helo: string;
  raw: Buffer;
  parse(): Promise<ParsedMail>;
}

/**
 * Who the messages reached and how many went twice: what every fault test checks after a campaign (`reached` is
 * the number of distinct recipients, `duplicates` the messages beyond one per recipient).
 */
export function deliveryCounts(messages: readonly ReceivedMail[]): { reached: number; duplicates: number } {
  const counts = new Map<string, number>();
  for (const m of messages) for (const to of m.to) counts.set(to, (counts.get(to) ?? 0) + 1);
  return { reached: counts.size, duplicates: [...counts.values()].reduce((n, c) => n + c - 1, 0) };
}

/** Options of `startSmtpSink`. */
export interface SmtpSinkOptions {
  /** Answer for a recipient: undefined accepts; a number rejects RCPT TO with that code (e.g. 450, 550). */
  rcptResponse?: (address: string) => number | undefined;
  /** Delay before accepting DATA, in ms. Default 0. */
  dataDelayMs?: number;
  /**
   * Asked at each new connection and each MAIL FROM: undefined goes on; a number (e.g. 421) refuses with that
   * code, so a server "answering 421 to everything" turns away new sessions and the pool's open ones alike.
   */
  refuse?: () => number | undefined;
  /** Listen on this port (a server started again where the last one was). Default: a free one. */
  port?: number;
  /**
   * How long `close()` lets open sessions finish before it answers them 421 and hangs up, like an MTA stopping.
   * Default smtp-server's 30 s.
   */
  closeTimeoutMs?: number;
}

function refusal(code: number | undefined): (Error & { responseCode: number }) | undefined {
  if (!code) return undefined;
  const err = new Error('Service not available, try again later') as Error & { responseCode: number };
  err.responseCode = code;
  return err;
}

/** A real SMTP server in the test process that records what it accepts. */
export async function startSmtpSink(opts: SmtpSinkOptions = {}) {
  const messages: ReceivedMail[] = [];
  const rcptCounts = new Map<string, number>();
  const waiters: (() => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 10 * 1024 * 1024,
    closeTimeout: opts.closeTimeoutMs,
    onConnect(_session, cb) {
      cb(refusal(opts.refuse?.()));
    },
    onMailFrom(_address, _session, cb) {
      cb(refusal(opts.refuse?.()));
    },
    onRcptTo(address: SMTPServerAddress, _session, cb) {
      const addr = address.address.toLowerCase();
      rcptCounts.set(addr, (rcptCounts.get(addr) ?? 0) + 1);
      const code = opts.rcptResponse?.(addr);
      if (code) {
        const err = new Error(code >= 500 ? 'No such user here' : 'Try again later') as Error & {
          responseCode: number;
        };
        err.responseCode = code;
        return cb(err);
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const finish = () => {
          messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            helo: session.hostNameAppearsAs,
            raw,
            parse: () => simpleParser(raw),
          });
          waiters.splice(0).forEach((w) => w());
          cb();
        };
        if (opts.dataDelayMs) setTimeout(finish, opts.dataDelayMs);
        else finish();
      });
    },
  });
  // A client that dies mid-session (a worker killed with SIGKILL) resets its connection; that is not a sink failure.
  server.on('error', (err: Error & { code?: string }) => {
    if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') throw err;
  });
  await new Promise<void>((ok) => server.listen(opts.port ?? 0, '127.0.0.1', ok));
  const port = (server.server.address() as AddressInfo).port;

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    /** How many times each address was offered in RCPT TO, accepted or not. */
    rcptCounts,
    to(address: string): ReceivedMail[] {
      return messages.filter((m) => m.to.includes(address.toLowerCase()));
    },
    /** Resolves once `n` messages have arrived; fails after `timeoutMs`. */
    async waitForCount(n: number, timeoutMs = 20000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} messages, got ${messages.length}`);
        await new Promise<void>((ok) => {
          // Woken by a message or after 200 ms, whichever comes first; the other is dropped, so no timer outlives it.
          const timer = setTimeout(ok, 200);
          waiters.push(() => {
            clearTimeout(timer);
            ok();
          });
        });
      }
    },
    close(): Promise<void> {
      return new Promise((ok) => server.close(() => ok()));
    },
  };
}

export type SmtpSink = Awaited<ReturnType<typeof startSmtpSink>>;
