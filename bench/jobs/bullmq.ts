// The BullMQ-on-Redis baseline: a worker process (bench/jobs/bullmq-worker.ts) and, here, a
// producer that adds a job and waits for BullMQ's own completion event (Redis streams, no polling).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { Harness } from '../../tests/support/harness.js';
import { freePort } from '../../scripts/services.js';
import { CASES, MIME, type CaseName } from './workload.js';

const root = path.resolve(import.meta.dirname, '../..');

async function answers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** The Redis at 127.0.0.1:6379, else one started on a free port (redis-server), else why not. */
async function redisUrl(dir: string): Promise<{ url: string; stop?: () => Promise<void> } | { skipped: string }> {
  const shared = 'redis://127.0.0.1:6379';
  if (await answers(shared)) return { url: shared };
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const failed = await Promise.race([once(server, 'error').then(() => true), new Promise((r) => setTimeout(() => r(false), 500))]);
  const url = `redis://127.0.0.1:${port}`;
  if (failed || !(await answers(url))) {
    server.kill();
    return { skipped: 'no Redis answers at 127.0.0.1:6379 and redis-server could not be started' };
  }
  return { url, stop: async () => void server.kill() };
}

export interface Baseline {
  skipped?: string;
  concurrency: number;
  run(name: CaseName): Promise<void>;
  stop(): Promise<void>;
}

export async function startBaseline(h: Harness, inputs: { jpeg: string; wav: string }, dir: string): Promise<Baseline> {
  const redis = await redisUrl(dir);
  const concurrency = h.config.worker.maxConcurrentActivities;
  if ('skipped' in redis) return { skipped: redis.skipped, concurrency, run: async () => undefined, stop: async () => undefined };
  // The same inputs, stored in the same MinIO through the same (encrypting) storage layer.
  const keys = { jpeg: `bench/inputs/${randomUUID()}.jpg`, wav: `bench/inputs/${randomUUID()}.wav` };
  await h.common.storage.put(keys.jpeg, await readFile(inputs.jpeg), MIME.jpeg);
  await h.common.storage.put(keys.wav, await readFile(inputs.wav), MIME.wav);

  const queueName = `mediaflow-bench-${randomUUID()}`;
  const connection = { url: redis.url };
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/jobs/bullmq-worker.ts'], {
    cwd: root,
    env: { ...process.env, BENCH_QUEUE: queueName, BENCH_REDIS_URL: redis.url, BENCH_CONCURRENCY: String(concurrency), LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`BullMQ worker exited (${code})`)));
  });
  const queue = new Queue(queueName, { connection });
  // Each add in flight listens for the queue's 'closing' event: saturation keeps more than ten in flight.
  queue.setMaxListeners(0);
  const events = new QueueEvents(queueName, { connection });
  await events.waitUntilReady();
  return {
    concurrency,
    async run(name) {
      const job = await queue.add(name, { case: name, inputKey: CASES[name].input === 'jpeg' ? keys.jpeg : keys.wav }, { removeOnComplete: true, removeOnFail: true });
      await job.waitUntilFinished(events, 120_000);
    },
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
      await events.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await h.common.storage.remove(keys.jpeg);
      await h.common.storage.remove(keys.wav);
      await redis.stop?.();
    },
  };
}
