import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { systemClock } from '#domain/clock.js';
import { loadConfig, type Config } from '#lib/config.js';
import { createLogger } from '#lib/logger.js';
import { createMetrics } from '#lib/metrics.js';
import { createTemporalClient } from '#lib/temporal-client.js';
import { setupTracing } from '#lib/tracing.js';
import { createCommon } from '#domain/runtime.js';
import { waitFor, type Waiting } from '#lib/wait-for.js';
import { createApp, type ApiApp } from './app.js';
import { startingHandler } from './starting.js';
import { scheduleUploadCleanup } from './services/uploads/index.js';

/**
 * Starts the API; resolves once it listens. It listens at once: while Postgres, Temporal or storage
 * are still coming up, readiness answers 503 naming what it waits for (api/starting.ts), and the
 * application takes over once they are all there. SIGTERM stops accepting and lets requests finish.
 */
export async function startApi(config: Config) {
  const tracing = setupTracing(config.telemetry, 'api');
  const logger = createLogger(config.logLevel, 'api');
  const waiting: Waiting = new Set(['postgres', 'storage', 'temporal']);
  let handle: (req: IncomingMessage, res: ServerResponse) => void = startingHandler(waiting);
  const listen = (port: number) => createServer((req, res) => handle(req, res)).listen(port, config.http.host);
  const server = listen(config.http.port);
  // /metrics and health on their own port when OPS_PORT is set (api/middleware/ops-port.ts).
  const ops = config.http.opsPort > 0 ? listen(config.http.opsPort) : undefined;
  const servers = [server, ops].filter((s) => s !== undefined);
  await Promise.all(servers.map((s) => new Promise<void>((resolve, reject) => s.once('listening', resolve).once('error', reject))));
  logger.info({ port: config.http.port, opsPort: config.http.opsPort || undefined }, 'API listening; connecting to its dependencies');

  let app: ApiApp | undefined;
  let stopUploadCleanup = () => undefined as void;
  const ready = (async () => {
    const [{ orm, storage, actions }, temporal] = await Promise.all([
      createCommon(config, { logger, waiting }),
      waitFor('temporal', () => createTemporalClient(config.temporal), { logger, policy: config.infraRetry, waiting }),
    ]);
    const metrics = createMetrics('api');
    app = createApp({ config, logger, orm, storage, temporal, actions, clock: systemClock, metrics, tracer: tracing.tracer });
    handle = app.callback();
    app.runBackground();
    stopUploadCleanup = scheduleUploadCleanup({ orm, config, logger });
    logger.info({ port: config.http.port }, 'API ready');
    return { orm, temporal };
  })();
  ready.catch((err: unknown) => logger.error({ err }, 'API could not start'));

  const stop = async () => {
    stopUploadCleanup();
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            setTimeout(() => s.closeAllConnections(), config.http.shutdownGraceMs).unref();
            s.closeIdleConnections();
          }),
      ),
    );
    if (app) {
      const { orm, temporal } = await ready;
      // Every request has finished: what they metered is written before the database goes.
      await app.close();
      await temporal.connection.close();
      await orm.close();
    }
    await tracing.shutdown();
  };
  return { server, stop, ready };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const config = loadConfig();
  const { stop } = await startApi(config);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void stop().then(() => process.exit(0)));
  }
}
