// `npm start`: starts Postgres (if none answers), Temporal and MinIO, runs the migrations, then the
// API and the worker, and stops everything on Ctrl-C.
// Environment: TEMPORAL_ADDRESS / S3_ENDPOINT (+ S3_ACCESS_KEY, S3_SECRET_KEY) use running servers
// instead of starting them; DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/mediaflow);
// PORT (default 3000); MEDIAFLOW_DATA_DIR (default ./data); TEMPORAL_PORT / TEMPORAL_UI_PORT /
// MINIO_PORT / MINIO_CONSOLE_PORT (defaults 7233 / 8233 / 9000 / 9001) for the servers started here;
// HOST (default 127.0.0.1) for the API's listening address.
// Secrets (JWT, signed links, webhook and storage keys, codec keys, MinIO credentials) are generated
// on the first start into <data dir>/secrets.json (mode 0600) and reused afterwards; a variable set
// in the environment wins over the file.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadOrCreateSecrets } from '#lib/local-secrets.js';
import { ensureConsoleBuilt } from './build-console.js';
import { registerSearchAttributes } from './search-attributes.js';
import { binary, startServices, redact, type RunningServices } from './services.js';

const root = path.resolve(import.meta.dirname, '..');
const env = process.env;
const log = (line: string) => console.log(`[start] ${line}`);

const port = Number(env.PORT || 3000); // validated by the API's own config
const dataDir = path.resolve(root, env.MEDIAFLOW_DATA_DIR || 'data');
const secretsFile = path.join(dataDir, 'secrets.json');
// What the environment does not set comes from the data directory's own secrets.
const secrets = Object.fromEntries(Object.entries(loadOrCreateSecrets(secretsFile)).map(([name, value]) => [name, env[name] || value]));
const accessKey = secrets.S3_ACCESS_KEY!;
const secretKey = secrets.S3_SECRET_KEY!;
const portEnv = (name: string, fallback: number): number => {
  const n = Number(env[name] || fallback);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a TCP port (got "${env[name]}")`);
  return n;
};

let services: RunningServices | null = null;
const apps: { name: string; proc: ChildProcess }[] = [];
let shuttingDown = false;

async function stopProc(proc: ChildProcess, graceMs = 10_000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = new AbortController();
  const timedOut = await Promise.race([
    exited.then(() => false),
    sleep(graceMs, true, { signal: timer.signal }).catch(() => false),
  ]);
  timer.abort();
  if (timedOut) {
    proc.kill('SIGKILL');
    await exited;
  }
}

async function shutdown(code: number, reason?: string): Promise<never> {
  if (shuttingDown) {
    // Already stopping; a second Ctrl-C should not make the wait any longer than it is.
    return new Promise<never>(() => undefined);
  }
  shuttingDown = true;
  if (reason) log(reason);
  log('stopping...');
  await Promise.all(apps.map((a) => stopProc(a.proc)));
  await services?.stop();
  log('stopped');
  process.exit(code);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => void shutdown(0));
}

function prefixLines(stream: NodeJS.ReadableStream | null, prefix: string, out: NodeJS.WriteStream): void {
  if (!stream) return;
  readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => out.write(`${prefix}${line}\n`));
}

function startApp(name: string, script: string, childEnv: NodeJS.ProcessEnv): ChildProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  prefixLines(proc.stdout, `[${name}] `, process.stdout);
  prefixLines(proc.stderr, `[${name}] `, process.stderr);
  return proc;
}

async function runMigrations(childEnv: NodeJS.ProcessEnv): Promise<void> {
  log('running database migrations');
  const proc = startApp('migrate', 'entities/migrate.ts', childEnv);
  apps.push({ name: 'migrate', proc });
  const code = await new Promise<number | null>((resolve) => {
    proc.once('exit', (c) => resolve(c));
    proc.once('error', () => resolve(-1));
  });
  apps.splice(apps.findIndex((a) => a.proc === proc), 1);
  if (code !== 0) throw new Error(`migrations failed (exit code ${code})`);
}

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (shuttingDown) return;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch {
      /* not up yet */
    }
    await sleep(500);
  }
  throw new Error(`the API did not answer 200 at ${url} within ${timeoutMs / 1000}s`);
}

function box(lines: string[]): string {
  const width = Math.max(...lines.map((l) => l.length));
  const bar = '─'.repeat(width + 2);
  return [`┌${bar}┐`, ...lines.map((l) => `│ ${l.padEnd(width)} │`), `└${bar}┘`].join('\n');
}

const uiPort = portEnv('TEMPORAL_UI_PORT', 8233);

async function main(): Promise<void> {
  log(`state directory: ${dataDir}`);
  services = await startServices({
    dataDir,
    temporal: env.TEMPORAL_ADDRESS
      ? { external: env.TEMPORAL_ADDRESS }
      : { port: portEnv('TEMPORAL_PORT', 7233), uiPort, persistent: true, uiCodecEndpoint: `http://localhost:${port}/api/v1/codec` },
    minio: env.S3_ENDPOINT
      ? { external: env.S3_ENDPOINT }
      : { port: portEnv('MINIO_PORT', 9000), consolePort: portEnv('MINIO_CONSOLE_PORT', 9001), accessKey, secretKey },
    databaseUrl: env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/mediaflow',
    startPostgresIfDown: true,
    log,
  });
  if (shuttingDown) return;

  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    ...secrets,
    DATABASE_URL: services.databaseUrl,
    TEMPORAL_ADDRESS: services.temporalAddress,
    TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE || 'default',
    S3_ENDPOINT: services.s3Endpoint,
    S3_ACCESS_KEY: accessKey,
    S3_SECRET_KEY: secretKey,
    PORT: String(port),
    // Developers test webhooks with a receiver on their own machine; production allows no private address.
    WEBHOOK_ALLOWED_CIDRS: env.WEBHOOK_ALLOWED_CIDRS ?? '127.0.0.0/8,::1/128',
    // The dev Web UI started here calls the codec endpoint from its own origin.
    TEMPORAL_CODEC_CORS_ORIGINS: env.TEMPORAL_CODEC_CORS_ORIGINS ?? `http://localhost:${uiPort},http://127.0.0.1:${uiPort}`,
  };

  await runMigrations(childEnv);
  if (shuttingDown) return;
  // The console the API serves at /; rebuilt only when web/ changed.
  await ensureConsoleBuilt({ log });
  if (shuttingDown) return;
  // Job workflows carry search attributes (organization, status, actions, media type) for the Web UI.
  if (!env.TEMPORAL_ADDRESS) {
    log('registering the job search attributes');
    await registerSearchAttributes({ bin: binary('TEMPORAL_BIN', 'temporal'), address: services.temporalAddress, namespace: childEnv.TEMPORAL_NAMESPACE!, log });
  }

  for (const [name, script] of [
    ['api', 'api/main.ts'],
    ['worker', 'worker/main.ts'],
  ] as const) {
    const proc = startApp(name, script, childEnv);
    apps.push({ name, proc });
    proc.once('exit', (code, signal) => {
      // A terminal Ctrl-C reaches the children too, possibly before our own SIGINT handler runs.
      void sleep(300).then(() => {
        if (!shuttingDown) {
          void shutdown(1, `${name} exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}); stopping everything`);
        }
      });
    });
  }

  await waitForHealth(`http://127.0.0.1:${port}/api/v1/health`, 120_000);
  if (shuttingDown) return;

  const lines = [
    'mediaflow is running',
    '',
    `Web console      http://localhost:${port}/`,
    `API              http://localhost:${port}/api/v1`,
    `API docs         http://localhost:${port}/docs`,
    services.temporalUiUrl
      ? `Temporal Web UI  ${services.temporalUiUrl}`
      : `Temporal         ${services.temporalAddress} (external)`,
    services.minioConsoleUrl
      ? `MinIO console    ${services.minioConsoleUrl} (credentials in ${secretsFile})`
      : `S3               ${services.s3Endpoint} (external)`,
    `Postgres         ${redact(services.databaseUrl)}`,
    '',
    'Ctrl-C stops everything',
  ];
  console.log(`\n${box(lines)}\n`);
}

main().catch((err: unknown) => {
  console.error(`[start] ${err instanceof Error ? err.message : String(err)}`);
  void shutdown(1);
});
