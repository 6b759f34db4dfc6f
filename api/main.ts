import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { systemClock } from '../activities/deps.js';
import { loadConfig, type Config } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { createCommon } from '../lib/runtime.js';
import { createApp } from './app.js';

/** Starts the API; resolves once it listens. SIGTERM stops accepting and lets requests finish. */
export async function startApi(config: Config) {
  const logger = createLogger(config.logLevel, 'api');
  const { orm, storage, actions } = await createCommon(config);
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const app = createApp({ config, logger, orm, storage, temporal, actions, clock: systemClock });
  const server = app.listen(config.http.port, config.http.host);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  logger.info({ port: config.http.port }, 'API listening');
  const stop = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      setTimeout(() => server.closeAllConnections(), config.http.shutdownGraceMs).unref();
      server.closeIdleConnections();
    });
    await connection.close();
    await orm.close();
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
