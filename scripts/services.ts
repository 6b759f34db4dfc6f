// Starts the backing services for `npm start` and the test suite: a Temporal dev server, a MinIO server
// and (for `npm start`, if none answers) a throw-away local Postgres cluster. Binaries come from
// scripts/bootstrap.sh (TEMPORAL_BIN / MINIO_BIN, or $MEDIAFLOW_BIN_DIR). Only what is started here
// is stopped here.
import fs from 'node:fs';
import path from 'node:path';
import { binary, runQuiet, startChild, stopChild, waitFor, type Child } from './services/children.js';
import { assertPortFree, tcpAccepts } from './services/ports.js';
import { preparePostgres } from './services/postgres.js';

export { binary } from './services/children.js';
export { freePort, freePorts } from './services/ports.js';
export { redact } from './services/postgres.js';

export interface ServicesOptions {
  /** State lives here (temporal sqlite file, minio data, postgres cluster, logs/). */
  dataDir: string;
  /** persistent: --db-filename under dataDir, else in-memory; uiPort null => --headless. */
  temporal: { port: number; uiPort: number | null; persistent: boolean; uiCodecEndpoint?: string } | { external: string };
  minio: { port: number; consolePort: number; accessKey: string; secretKey: string } | { external: string };
  /** The database to ensure exists (CREATE DATABASE if missing). */
  databaseUrl: string;
  /** Start a local Postgres cluster in dataDir when nothing answers at databaseUrl. */
  startPostgresIfDown: boolean;
  log: (line: string) => void;
}

export interface RunningServices {
  temporalAddress: string;
  temporalUiUrl: string | null;
  s3Endpoint: string;
  minioConsoleUrl: string | null;
  /** May differ from the input if a local postgres was started. */
  databaseUrl: string;
  /** Stops only what startServices started (SIGTERM, then SIGKILL after 10 s). */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- Temporal

async function startTemporal(
  o: ServicesOptions,
  t: { port: number; uiPort: number | null; persistent: boolean; uiCodecEndpoint?: string },
  started: Child[],
): Promise<{ address: string; uiUrl: string | null }> {
  const bin = binary('TEMPORAL_BIN', 'temporal');
  const hint = 'stop whatever listens there, or set TEMPORAL_ADDRESS to use a running Temporal server';
  await assertPortFree(t.port, 'Temporal gRPC', hint);
  if (t.uiPort !== null) await assertPortFree(t.uiPort, 'Temporal Web UI', hint);
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(t.port)];
  if (t.uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(t.uiPort));
  // The dev UI decodes payloads through the API's codec endpoint (the CLI's --ui-codec-endpoint).
  if (t.uiPort !== null && t.uiCodecEndpoint) args.push('--ui-codec-endpoint', t.uiCodecEndpoint);
  if (t.persistent) args.push('--db-filename', path.join(o.dataDir, 'temporal.db'));
  args.push('--log-level', 'warn');
  // A job's step activity is handed to the worker in the reply to the workflow task that
  // schedules it (eager dispatch) instead of going through the task queue.
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');
  // The dev server has one history shard, and its transfer queue (which hands every new workflow
  // task and activity task to matching) reads at most 20 times a second by default: past a short
  // burst, each hand-off of a job waited ~40 ms for the reader (a one-step job has three). Reads
  // happen when tasks are written, so a higher ceiling costs nothing when idle.
  args.push('--dynamic-config-value', 'history.transferProcessorMaxPollRPS=1000');
  o.log(`starting Temporal dev server on 127.0.0.1:${t.port}${t.persistent ? ' (state in ' + path.join(o.dataDir, 'temporal.db') + ')' : ''}`);
  const c = startChild(o.dataDir, 'temporal', bin, args);
  started.push(c);
  const address = `127.0.0.1:${t.port}`;
  await waitFor(c, `gRPC on ${address}`, 60_000, () => tcpAccepts(t.port));
  await waitFor(c, `namespace "default" on ${address}`, 60_000, () =>
    runQuiet(bin, ['operator', 'namespace', 'describe', '--namespace', 'default', '--address', address, '--command-timeout', '5s'], 10_000),
  );
  return { address, uiUrl: t.uiPort === null ? null : `http://localhost:${t.uiPort}` };
}

// ---------------------------------------------------------------- MinIO

async function startMinio(
  o: ServicesOptions,
  m: { port: number; consolePort: number; accessKey: string; secretKey: string },
  started: Child[],
): Promise<{ endpoint: string; consoleUrl: string }> {
  const bin = binary('MINIO_BIN', 'minio');
  const hint = 'stop whatever listens there, or set S3_ENDPOINT (and S3_ACCESS_KEY / S3_SECRET_KEY) to use a running S3 server';
  await assertPortFree(m.port, 'MinIO S3 API', hint);
  await assertPortFree(m.consolePort, 'MinIO console', hint);
  const dir = path.join(o.dataDir, 'minio');
  fs.mkdirSync(dir, { recursive: true });
  o.log(`starting MinIO on 127.0.0.1:${m.port} (data in ${dir})`);
  const c = startChild(
    o.dataDir,
    'minio',
    bin,
    ['server', dir, '--address', `127.0.0.1:${m.port}`, '--console-address', `127.0.0.1:${m.consolePort}`, '--quiet'],
    {
      env: {
        MINIO_ROOT_USER: m.accessKey,
        MINIO_ROOT_PASSWORD: m.secretKey,
        MINIO_UPDATE: 'off',
        MINIO_BROWSER_REDIRECT: 'off',
        // Don't let an ambient configuration change what the app expects.
        MINIO_ACCESS_KEY: undefined,
        MINIO_SECRET_KEY: undefined,
        MINIO_VOLUMES: undefined,
      },
    },
  );
  started.push(c);
  const endpoint = `http://127.0.0.1:${m.port}`;
  await waitFor(c, `${endpoint}/minio/health/live`, 60_000, async () => {
    try {
      const res = await fetch(`${endpoint}/minio/health/live`, { signal: AbortSignal.timeout(2000) });
      return res.status === 200;
    } catch {
      return false;
    }
  });
  return { endpoint, consoleUrl: `http://localhost:${m.consolePort}` };
}

// ---------------------------------------------------------------- all together

export async function startServices(o: ServicesOptions): Promise<RunningServices> {
  fs.mkdirSync(o.dataDir, { recursive: true });
  const started: Child[] = [];
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    // Reverse start order; each child gets its own grace period, all in parallel.
    stopping ??= Promise.all(started.reverse().map(stopChild)).then(() => undefined);
    return stopping;
  };
  try {
    const databaseUrl = await preparePostgres(o, started);

    let temporalAddress: string;
    let temporalUiUrl: string | null = null;
    if ('external' in o.temporal) {
      temporalAddress = o.temporal.external;
    } else {
      ({ address: temporalAddress, uiUrl: temporalUiUrl } = await startTemporal(o, o.temporal, started));
    }

    let s3Endpoint: string;
    let minioConsoleUrl: string | null = null;
    if ('external' in o.minio) {
      s3Endpoint = o.minio.external;
    } else {
      ({ endpoint: s3Endpoint, consoleUrl: minioConsoleUrl } = await startMinio(o, o.minio, started));
    }

    return { temporalAddress, temporalUiUrl, s3Endpoint, minioConsoleUrl, databaseUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
