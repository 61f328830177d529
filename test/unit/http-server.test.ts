import express from 'express';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { httpServerFor, listen } from '../../src/http/server';

/** An app whose one route answers with what Express gives a handler: a header read, the client's address, res.json. */
function app() {
  const a = express();
  a.get('/echo', (req, res) => void res.json({ agent: req.get('user-agent'), ip: req.ip }));
  return a;
}

/** What each request and response had as prototype when the server made them, before Express saw them. */
function prototypesAtArrival(server: Server): { request: object | null; response: object | null }[] {
  const seen: { request: object | null; response: object | null }[] = [];
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) =>
    seen.push({ request: Object.getPrototypeOf(req) as object, response: Object.getPrototypeOf(res) as object }),
  );
  return seen;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

async function serve(a: express.Express): Promise<{ server: Server; url: string }> {
  const server = httpServerFor(a);
  servers.push(server);
  return { server, url: `http://127.0.0.1:${await listen(server, 0)}` };
}

test('requests and responses arrive with the app’s prototypes, so Express has none to change', async () => {
  const a = app();
  const { server, url } = await serve(a);
  const seen = prototypesAtArrival(server);
  const res = await fetch(`${url}/echo`, { headers: { 'User-Agent': 'reader/1.0' } });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ agent: 'reader/1.0', ip: expect.stringMatching(/127\.0\.0\.1$/) });
  expect(seen).toEqual([{ request: a.request, response: a.response }]);
});

test('a second server of the same app serves with the same prototypes', async () => {
  const a = app();
  await serve(a);
  const second = await serve(a);
  const seen = prototypesAtArrival(second.server);
  const res = await fetch(`${second.url}/echo`);
  expect(res.status).toBe(200);
  expect(seen).toEqual([{ request: a.request, response: a.response }]);
});

test('a port already taken rejects with EADDRINUSE', async () => {
  const { url } = await serve(app());
  const port = Number(new URL(url).port);
  const again = httpServerFor(app());
  await expect(listen(again, port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
});
