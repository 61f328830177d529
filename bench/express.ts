/**
 * The express section of `npm run bench`: a bare Express 5 app (one JSON route) served the stock way (`app.listen`)
 * against the way the service serves its apps (src/http/server.ts: requests and responses made with the app's
 * prototypes, so Express changes none). wrk at 50 connections on each in turn, rounds alternated; the child processes
 * are started with `node --import tsx` as `npm start` is. Also printed, from V8's --trace-gc-nvp lines: the bytes
 * the young-generation collector copied (kept in the young generation or promoted) per byte allocated, which is
 * where the difference comes from.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { num } from './args';
import { fmt, heading, median, table } from './report';
import type { SectionContext, SectionResult } from './section';
import { cpuMsOf, wrkOnPath } from './service-run';

type How = 'stock' | 'born';

interface Child {
  process: ChildProcess;
  port: number;
  /** Bytes allocated, and bytes each scavenge copied, summed over the scavenges since the last `take()`. */
  take(): { allocated: number; copied: number };
}

function startChild(how: How): Promise<Child> {
  const child = spawn(
    process.execPath,
    ['--trace-gc-nvp', '--import', 'tsx', join(__dirname, 'express-child.ts'), how],
    { cwd: join(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let allocated = 0;
  let copied = 0;
  return new Promise((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`express-child ${how} exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const port = /^PORT (\d+)$/.exec(line);
      if (port)
        return ok({
          process: child,
          port: Number(port[1]),
          take() {
            const got = { allocated, copied };
            allocated = copied = 0;
            return got;
          },
        });
      if (!line.includes(' gc=s ')) return;
      allocated += Number(/ allocated=(\d+)/.exec(line)?.[1] ?? 0);
      copied +=
        Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0) + Number(/ new_space_survived=(\d+)/.exec(line)?.[1] ?? 0);
    });
  });
}

/** wrk -t2 -c50 for `seconds` on the child's route: requests/s and p99 latency in ms. */
function wrk(port: number, seconds: number): Promise<{ rate: number; p99: number }> {
  return new Promise((ok, fail) => {
    const w = spawn('wrk', ['-t2', '-c50', `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/healthz`]);
    let out = '';
    w.stdout.on('data', (c: Buffer) => (out += c.toString()));
    w.once('exit', (code) => {
      const rate = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)$/m.exec(out);
      if (code !== 0 || !rate || !p99) return fail(new Error(`wrk exited with ${code}:\n${out}`));
      const scale = { us: 0.001, ms: 1, s: 1000 }[p99[2] as 'us' | 'ms' | 's'];
      ok({ rate: Number(rate[1]), p99: Number(p99[1]) * scale });
    });
  });
}

export async function expressSection(ctx: SectionContext): Promise<SectionResult> {
  heading('Express: a bare JSON route, stock app.listen against src/http/server.ts, wrk at 50 connections');
  if (!wrkOnPath()) return { rows: [], targets: [] };
  const seconds = ctx.quick ? 2 : num('express-seconds', 5);
  const rounds = ctx.quick ? 1 : 3;
  const children: Partial<Record<How, Child>> = {};
  const stop = () =>
    Promise.all(
      Object.values(children).map(
        (c) =>
          new Promise((exited) => {
            if (c.process.exitCode !== null || c.process.signalCode !== null) return exited(undefined);
            c.process.once('exit', exited).kill();
          }),
      ),
    ).then(() => undefined);
  ctx.onCleanup(stop);
  try {
    children.stock = await startChild('stock');
    children.born = await startChild('born');
    const results: Record<How, { rate: number; p99: number; cpuUs: number; copied: number }[]> = {
      stock: [],
      born: [],
    };
    // A warm-up of each, then the rounds alternated so the machine's drift falls on both alike.
    for (const how of ['stock', 'born'] as How[]) await wrk(children[how]!.port, 1);
    for (let r = 0; r < rounds; r++) {
      for (const how of ['stock', 'born'] as How[]) {
        const child = children[how]!;
        child.take();
        const cpu0 = cpuMsOf(child.process.pid!);
        const { rate, p99 } = await wrk(child.port, seconds);
        const cpu1 = cpuMsOf(child.process.pid!);
        const gc = child.take();
        const cpuUs = cpu0 !== undefined && cpu1 !== undefined ? ((cpu1 - cpu0) * 1000) / (rate * seconds) : NaN;
        results[how].push({ rate, p99, cpuUs, copied: gc.allocated ? gc.copied / gc.allocated : NaN });
      }
    }
    const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : 'n/a');
    const us = (v: number) => (Number.isFinite(v) ? fmt.us(v) : 'n/a');
    const rows = (['stock', 'born'] as How[]).map((how) => {
      const rs = results[how];
      return [
        how === 'stock' ? 'app.listen (Express sets each prototype)' : 'src/http/server.ts (born with them)',
        rs.map((x) => fmt.rate(x.rate)).join(', '),
        fmt.ms(median(rs.map((x) => x.p99))),
        us(median(rs.map((x) => x.cpuUs))),
        pct(median(rs.map((x) => x.copied))),
      ];
    });
    console.log('');
    console.log(
      table([
        ['server', 'requests/s by round', 'p99 (median)', 'CPU per request', 'scavenger copies per byte allocated'],
        ...rows,
      ]),
    );
    const stock = median(results.stock.map((x) => x.rate));
    const born = median(results.born.map((x) => x.rate));
    return {
      rows: [
        [
          'express: bare JSON route req/s, app.listen | src/http/server.ts (median)',
          fmt.rate(stock),
          fmt.rate(born),
          (born / stock).toFixed(2),
        ],
      ],
      targets: [],
    };
  } finally {
    await stop();
  }
}
