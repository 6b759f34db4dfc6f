// Jest globalSetup: starts an in-memory Temporal dev server and a MinIO server on free ports, recreates
// the test database and migrates it, and exports the connection settings through process.env (Jest runs
// in band, so the tests see them). The handle is kept on globalThis for global-teardown.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';

type Services = typeof import('../../scripts/services.js');
type LocalSecrets = typeof import('#lib/local-secrets.js');
type Migrate = typeof import('#entities/migrate.js');
type SearchAttributes = typeof import('../../scripts/search-attributes.js');

export interface TestServicesHandle {
  services: import('../../scripts/services.js').RunningServices;
  dataDir: string;
}

declare global {
  var __MEDIAFLOW_TEST_SERVICES__: TestServicesHandle | undefined;
}

// Jest loads this file through its CommonJS transform, where ESM-only dependencies and `.js` -> `.ts`
// specifiers do not resolve; tsx loads the real modules as ESM instead.
async function load<T>(rootDir: string, file: string): Promise<T> {
  return (await tsImport(pathToFileURL(path.join(rootDir, file)).href, pathToFileURL(path.join(rootDir, 'package.json')).href)) as T;
}

export default async function globalSetup(_globalConfig: unknown, projectConfig: { rootDir: string }): Promise<void> {
  const rootDir = projectConfig?.rootDir ?? process.cwd();
  const { startServices, freePorts } = await load<Services>(rootDir, 'scripts/services.ts');

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-test-'));
  // Fresh secrets every run (the API and worker of every test file share them through process.env).
  const { generateSecrets } = await load<LocalSecrets>(rootDir, 'lib/local-secrets.ts');
  const secrets = generateSecrets();
  const accessKey = secrets.S3_ACCESS_KEY!;
  const secretKey = secrets.S3_SECRET_KEY!;
  const requested = process.env.TEST_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/mediaflow_test';
  const quiet = process.env.MEDIAFLOW_TEST_VERBOSE ? (l: string) => console.log(`[test-setup] ${l}`) : () => undefined;

  await recreateDatabase(rootDir, requested);

  const keep = keepTestData();
  let services: TestServicesHandle['services'] | undefined;
  try {
    const [temporalPort, minioPort, minioConsolePort] = await freePorts(3);
    services = await startServices({
      dataDir,
      temporal: { port: temporalPort!, uiPort: null, persistent: false },
      minio: { port: minioPort!, consolePort: minioConsolePort!, accessKey, secretKey },
      databaseUrl: requested,
      startPostgresIfDown: false,
      log: quiet,
    });

    const env = process.env;
    for (const [name, value] of Object.entries(secrets)) env[name] ||= value;
    env.DATABASE_URL = services.databaseUrl;
    env.TEMPORAL_ADDRESS = services.temporalAddress;
    env.TEMPORAL_NAMESPACE = 'default';
    env.S3_ENDPOINT = services.s3Endpoint;
    env.S3_ACCESS_KEY = accessKey;
    env.S3_SECRET_KEY = secretKey;
    env.S3_BUCKET = 'mediaflow-test';
    env.NODE_ENV = 'test';
    env.LOG_LEVEL ??= 'silent';
    // The Temporal core's metrics exporter binds a fixed port; tests that want it choose a free one.
    env.TEMPORAL_METRICS_BIND ??= '';

    const { registerSearchAttributes } = await load<SearchAttributes>(rootDir, 'scripts/search-attributes.ts');
    const { binary } = await load<Services>(rootDir, 'scripts/services.ts');
    await registerSearchAttributes({ bin: binary('TEMPORAL_BIN', 'temporal'), address: services.temporalAddress, namespace: 'default' });

    const { migrate } = await load<Migrate>(rootDir, 'entities/migrate.ts');
    await migrate(services.databaseUrl);
  } catch (err) {
    // Jest does not run globalTeardown when globalSetup fails.
    await services?.stop();
    if (keep) console.error(`[test-setup] kept test data in ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  globalThis.__MEDIAFLOW_TEST_SERVICES__ = { services, dataDir };
}

/** KEEP_TEST_DATA=1 keeps the temporary data directory (logs/, minio/) after the run. */
function keepTestData(): boolean {
  const v = process.env.KEEP_TEST_DATA;
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

/** Drops and recreates the test database so every run starts from an empty schema. */
async function recreateDatabase(rootDir: string, url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name || name === 'postgres') throw new Error(`refusing to recreate database "${name}" (from TEST_DATABASE_URL)`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const pgModule = 'pg'; // comes with @mikro-orm/postgresql; a variable specifier because it ships no types
  const pg = (await import(pgModule)) as { default?: PgModule } & Partial<PgModule>;
  const Client = (pg.Client ?? pg.default?.Client) as PgModule['Client'];
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `tests need Postgres at ${admin.host} (set TEST_DATABASE_URL to use another server): ${(err as Error).message}`,
      { cause: err },
    );
  }
  try {
    const ident = `"${name.replace(/"/g, '""')}"`;
    await client.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${ident}`);
  } finally {
    await client.end();
  }
}

interface PgModule {
  Client: new (config: { connectionString: string; connectionTimeoutMillis?: number }) => {
    connect(): Promise<void>;
    query(sql: string): Promise<unknown>;
    end(): Promise<void>;
  };
}
