// The baseline's worker process: a BullMQ worker on Redis doing a job's identical work (download
// from the same MinIO, the same action plugins, upload, a status row in the same Postgres).
// Started by bench/jobs/bullmq.ts with BENCH_QUEUE, BENCH_REDIS_URL and BENCH_CONCURRENCY set.
import { Worker } from 'bullmq';
import { loadConfig } from '#lib/config.js';
import { createCommon } from '#domain/runtime.js';
import { storedRunner, type CaseName } from './workload.js';

const config = loadConfig();
const { orm, storage, actions } = await createCommon(config);
const stored = storedRunner(actions, config, storage, config.worker.tmpDir);
const em = orm.em.fork();
await em.execute(`create table if not exists bench_bullmq_jobs (id text primary key, status text not null, result_key text, updated_at timestamptz not null default now())`);

const worker = new Worker<{ case: CaseName; inputKey: string }>(
  process.env.BENCH_QUEUE!,
  async (job) => {
    const db = orm.em.fork();
    await db.execute(`insert into bench_bullmq_jobs (id, status) values (?, 'processing') on conflict (id) do update set status = 'processing', updated_at = now()`, [job.id]);
    const resultKey = await stored(job.data.case, job.data.inputKey, job.id!);
    await db.execute(`update bench_bullmq_jobs set status = 'completed', result_key = ?, updated_at = now() where id = ?`, [resultKey, job.id]);
    return { resultKey };
  },
  { connection: { url: process.env.BENCH_REDIS_URL! }, concurrency: Number(process.env.BENCH_CONCURRENCY ?? 4), removeOnComplete: { count: 10_000 } },
);
await worker.waitUntilReady();
console.log('bullmq worker ready');
const stop = async () => {
  await worker.close();
  await orm.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
