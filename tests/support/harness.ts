// Runs the real API and a real worker in the test process, against the services started by
// global-setup (Temporal dev server, MinIO, Postgres). Each test file gets its own task queue.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, type Worker } from '@temporalio/worker';
import { createApp } from '../../api/app.js';
import { systemClock } from '../../activities/deps.js';
import { loadConfig, type Config } from '../../lib/config.js';
import { createLogger } from '../../lib/logger.js';
import { createCommon } from '../../lib/runtime.js';
import { createWorker, WORKFLOWS_PATH } from '../../worker/main.js';

export interface Harness {
  url: string;
  /** fetch against the API, as the harness's default caller (credentials added here once identity exists). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** POST a JSON body. */
  post(path: string, body: unknown): Promise<Response>;
  /** Multipart upload of one file to /api/v1/media/upload. */
  upload(body: Buffer, filename: string, type?: string): Promise<Response>;
  config: Config;
  temporal: Client;
  common: Awaited<ReturnType<typeof createCommon>>;
  stop(): Promise<void>;
}

export async function startHarness(opts: { worker?: boolean; env?: Record<string, string> } = {}): Promise<Harness> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = loadConfig({
    ...process.env,
    API_BASE_URL: url,
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    ...opts.env,
  });
  const common = await createCommon(config);
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const app = createApp({
    config,
    logger: createLogger(config.logLevel, 'api'),
    ...common,
    temporal,
    clock: systemClock,
  });
  server.on('request', app.callback());

  let worker: { worker: Worker; close(): Promise<void> } | undefined;
  let running: Promise<void> | undefined;
  if (opts.worker) {
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
    worker = await createWorker(config, { workflowBundle });
    running = worker.worker.run();
  }
  const call = (path: string, init: RequestInit = {}) => fetch(`${url}${path}`, init);
  return {
    url,
    fetch: call,
    post: (path, body) => call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    upload(body, filename, type = 'application/octet-stream') {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(body)], { type }), filename);
      return call('/api/v1/media/upload', { method: 'POST', body: form });
    },
    config,
    temporal,
    common,
    async stop() {
      if (worker) {
        worker.worker.shutdown();
        await running;
        await worker.close();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
      await common.orm.close();
    },
  };
}

const noop = () => undefined;
const quietBundlerLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

export async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
