import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { Express } from 'express';

/**
 * The HTTP server of an Express app, whose requests and responses are born with the app's prototypes.
 *
 * Express gives each request and response the app's prototype as it arrives (`Object.setPrototypeOf`), which costs
 * nothing when they have it already. Changing the prototype of a live object costs far more than the call: V8 then
 * kept each request's objects alive through young-generation collections, to be promoted and left for full ones.
 * `npm run bench -- --only=express` (two cores, wrk at 50 connections, a bare JSON route): 8,225-9,614 requests/s
 * with `app.listen`, the young-generation collector copying 66 bytes for every 100 allocated, against
 * 20,567-22,808/s and 0.5 bytes with these classes (BENCHMARKS.md). Node's `createServer` options are made for such
 * subclasses.
 */
export function httpServerFor(app: Express): Server {
  class AppRequest extends IncomingMessage {}
  class AppResponse extends ServerResponse {}
  adopt(app, 'request', AppRequest.prototype);
  adopt(app, 'response', AppResponse.prototype);
  return createServer({ IncomingMessage: AppRequest, ServerResponse: AppResponse }, app);
}

/** Puts `proto` in the place of the app's own request (or response) prototype: the same parent, the same properties. */
function adopt(app: Express, key: 'request' | 'response', proto: object): void {
  const theirs: object = app[key];
  // Their own properties (`app`), not their constructor: a second server for the same app finds an earlier class here.
  const own = Object.entries(Object.getOwnPropertyDescriptors(theirs)).filter(([name]) => name !== 'constructor');
  Object.setPrototypeOf(proto, Object.getPrototypeOf(theirs) as object);
  Object.defineProperties(proto, Object.fromEntries(own));
  Object.assign(app, { [key]: proto });
}

/**
 * Listens on `port` (0: a free one); resolves with the port, rejects with a listen error such as a port taken. Like
 * Express's own `app.listen`, the error listener stays: a later server error is absorbed instead of thrown.
 */
export function listen(server: Server, port: number): Promise<number> {
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, () => ok((server.address() as { port: number }).port));
  });
}
