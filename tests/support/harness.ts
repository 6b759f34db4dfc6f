// Runs the real API and a real worker in the test process, against the services started by
// global-setup (Temporal dev server, MinIO, Postgres). Each test file gets its own task queue.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { WorkerGroup } from '#worker/worker-group.js';
import { createApp } from '#api/app.js';
import { systemClock } from '#activities/deps.js';
import { loadConfig, type Config } from '#lib/config.js';
import { createLogger, type Logger } from '#lib/logger.js';
import { createMetrics } from '#lib/metrics.js';
import { createTemporalClient } from '#lib/temporal-client.js';
import { setupTracing } from '#lib/tracing.js';
import { createCommon } from '#domain/runtime.js';
import { bundleOptions } from '#worker/bundle.js';
import { createWorker } from '#worker/main.js';
import { createContractChecker } from './contract.js';
import { client, registerTenant, type ApiClient, type Credentials, type Tenant } from './tenants.js';

// Generous limits so tests do not trip over each other's counters (kept in the shared test database);
// tests of the limits themselves pass their own through `env`.
const TEST_RATE_LIMITS = {
  RATE_LIMIT_AUTH_PER_MINUTE: '100000',
  RATE_LIMIT_UPLOAD_PER_MINUTE: '100000',
  RATE_LIMIT_JOBS_PER_MINUTE: '100000',
  RATE_LIMIT_READ_PER_MINUTE: '100000',
  RATE_LIMIT_WRITE_PER_MINUTE: '100000',
  RATE_LIMIT_STATUS_PER_MINUTE: '100000',
  RATE_LIMIT_DOWNLOAD_PER_MINUTE: '100000',
  ORG_REQUESTS_PER_DAY: '0',
  ORG_CONCURRENT_JOBS: '0',
};

/**
 * fetch/post/upload act as the harness's default caller: the owner of an organization registered
 * through the API when the harness starts, with an API key holding every scope.
 */
export interface Harness extends ApiClient {
  url: string;
  /** The default caller's organization, user and credentials. */
  tenant: Tenant;
  /** A client with other credentials (`{}`: anonymous). */
  as(credentials: Credentials): ApiClient;
  /** Registers another organization (with its owner and an owner key). */
  newTenant(opts?: { name?: string }): Promise<Tenant>;
  config: Config;
  temporal: Client;
  common: Awaited<ReturnType<typeof createCommon>>;
  /** The API's metrics registry. */
  metrics: ReturnType<typeof createMetrics>;
  /** The worker's metrics registry, when the harness runs a worker. */
  workerMetrics?: ReturnType<typeof createMetrics>;
  stop(): Promise<void>;
}

export async function startHarness(opts: { worker?: boolean; env?: Record<string, string>; logger?: Logger } = {}): Promise<Harness> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = loadConfig({
    ...process.env,
    API_BASE_URL: url,
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    ...TEST_RATE_LIMITS,
    ...opts.env,
  });
  const common = await createCommon(config);
  const temporal = await createTemporalClient(config.temporal);
  const metrics = createMetrics('api');
  const app = createApp({
    config,
    logger: opts.logger ?? createLogger(config.logLevel, 'api'),
    ...common,
    temporal,
    clock: systemClock,
    metrics,
    tracer: setupTracing(config.telemetry, 'test').tracer,
  });
  const contract = createContractChecker();
  const handle = app.callback();
  server.on('request', (req, res) => {
    contract.watch(req, res);
    void handle(req, res);
  });

  let worker: { worker: WorkerGroup; close(): Promise<void>; metrics: ReturnType<typeof createMetrics> } | undefined;
  let running: Promise<void> | undefined;
  if (opts.worker) {
    const workflowBundle = await bundleWorkflowCode({ ...bundleOptions({ traced: config.telemetry.otlpTracesEndpoint !== undefined }), logger: quietBundlerLogger });
    worker = await createWorker(config, workflowBundle, { logger: opts.logger });
    running = worker.worker.run();
  }
  const tenant = await registerTenant(url);
  return {
    url,
    fetch: tenant.fetch,
    post: tenant.post,
    upload: tenant.upload,
    tenant,
    as: (credentials) => client(url, credentials),
    newTenant: (o) => registerTenant(url, o),
    config,
    temporal,
    common,
    metrics,
    workerMetrics: worker?.metrics,
    async stop() {
      if (worker) {
        worker.worker.shutdown();
        await running;
        await worker.close();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.close();
      await temporal.connection.close();
      await common.orm.close();
      const violations = contract.violations();
      if (violations.length) throw new Error(`replies that break openapi/openapi.yaml:\n- ${violations.join('\n- ')}`);
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
