import { Queue, Worker, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
async function main() {
  const conn = new Redis({ maxRetriesPerRequest: null });
  const q = new Queue('t1', { connection: conn, prefix: 'bqtest' });
  const w = new Worker('t1', async (job) => { return job.data.x * 2; }, { connection: conn.duplicate(), prefix: 'bqtest', limiter: { max: 10, duration: 1000 } });
  const j = await q.add('a', { x: 21 }, { jobId: 'abc-1' });
  await new Promise<void>((r) => w.on('completed', (job, res) => { console.log('done', job.id, res); r(); }));
  console.log(await q.getJobCounts());
  await w.close(); await q.obliterate({ force: true }); await q.close(); conn.disconnect();
}
main().catch((e) => { console.error(e); process.exit(1); });
