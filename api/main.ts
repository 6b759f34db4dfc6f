import { pathToFileURL } from 'node:url';
import { systemClock } from '#domain/clock.js';
import { loadConfig, type Config } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { createMetrics } from '../lib/metrics.js';
import { createTemporalClient } from '../lib/temporal-client.js';
import { setupTracing } from '../lib/tracing.js';
import { createCommon } from '#domain/runtime.js';
import { createApp } from './app.js';
import { scheduleUploadCleanup } from './services/uploads/index.js';

/** Starts the API; resolves once it listens. SIGTERM stops accepting and lets requests finish. */
export async function startApi(config: Config) {
  const tracing = setupTracing(config.telemetry, 'api');
  const logger = createLogger(config.logLevel, 'api');
  const { orm, storage, actions } = await createCommon(config);
  const temporal = await createTemporalClient(config.temporal);
  const metrics = createMetrics('api');
  const app = createApp({ config, logger, orm, storage, temporal, actions, clock: systemClock, metrics, tracer: tracing.tracer });
  const server = app.listen(config.http.port, config.http.host);
  // /metrics and health on their own port when OPS_PORT is set (api/middleware/ops-port.ts).
  const ops = config.http.opsPort > 0 ? app.listen(config.http.opsPort, config.http.host) : undefined;
  const stopUploadCleanup = scheduleUploadCleanup({ orm, config, logger });
  await Promise.all(
    [server, ops].filter((s) => s !== undefined).map((s) => new Promise<void>((resolve, reject) => s.once('listening', resolve).once('error', reject))),
  );
  logger.info({ port: config.http.port, opsPort: config.http.opsPort || undefined }, 'API listening');
  const stop = async () => {
    stopUploadCleanup();
    await Promise.all(
      [server, ops]
        .filter((s) => s !== undefined)
        .map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              setTimeout(() => s.closeAllConnections(), config.http.shutdownGraceMs).unref();
              s.closeIdleConnections();
            }),
        ),
    );
    // Every request has finished: what they metered is written before the database goes.
    await app.close();
    await temporal.connection.close();
    await orm.close();
    await tracing.shutdown();
  };
  return { server, stop };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const config = loadConfig();
  const { stop } = await startApi(config);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void stop().then(() => process.exit(0)));
  }
}
