import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

/** What a hostile request got back. */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  ms: number;
}

/** One request as the case table writes it: sent byte for byte, nothing normalised (fetch would tidy paths). */
export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: string | Buffer;
}

/**
 * Sends a request with node:http and gives up after `timeoutMs`: a hang is a failure, not a slow pass. The path
 * goes out as written (`..`, `%2e%2e`, repeated parameters), which fetch would rewrite per the URL standard.
 */
export function send(port: number, req: RawRequest, timeoutMs: number): Promise<Answer> {
  const started = Date.now();
  return new Promise((ok, fail) => {
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    const headers = { ...req.headers };
    if (body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length'))
      headers['content-length'] = String(body.length);
    const r = request({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        ok({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
          ms: Date.now() - started,
        });
      });
      res.on('error', fail);
    });
    const timer = setTimeout(() => {
      r.destroy();
      fail(new Error(`${req.method} ${req.path.slice(0, 120)} got no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    r.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    r.end(body);
  });
}

/**
 * Writes bytes straight to the socket, for what node:http refuses to send (a NUL in a header, an unknown method,
 * a request line with spaces): the answer of Node's own HTTP parser is read up to the status line's code.
 */
export function sendBytes(port: number, bytes: string | Buffer, timeoutMs: number): Promise<Answer> {
  const started = Date.now();
  return new Promise((ok, fail) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      fail(new Error(`no answer to raw bytes within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (!m) return fail(new Error(`not an HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      const [head, ...rest] = text.split('\r\n\r\n');
      const headers: IncomingHttpHeaders = {};
      for (const line of head.split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      ok({ status: Number(m[1]), headers, text: rest.join('\r\n\r\n'), ms: Date.now() - started });
    };
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', finish);
    socket.on('error', (err) => (chunks.length ? finish() : fail(err)));
    socket.write(bytes);
  });
}
