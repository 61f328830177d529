/**
 * A bare Express app with one JSON route, for bench/express.ts: `stock` serves it with Express's own `app.listen`,
 * `born` with src/http/server.ts (requests and responses made with the app's prototypes). Prints the port.
 *
 *   node --import tsx bench/express-child.ts stock|born
 */
import express from 'express';
import { httpServerFor, listen } from '../src/http/server';

const how = process.argv[2];
const app = express();
app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
if (how === 'born') {
  void listen(httpServerFor(app), 0).then((port) => console.log(`PORT ${port}`));
} else if (how === 'stock') {
  const server = app.listen(0, () => console.log(`PORT ${(server.address() as { port: number }).port}`));
} else {
  throw new Error('usage: express-child.ts stock|born');
}
