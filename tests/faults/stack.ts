// The fault suite's private stack, like `npm start` runs one but every part its own process that the
// suite may kill and start again: a Postgres cluster of its own (initdb in a temporary directory, a
// free port; never the shared server), a Temporal dev server keeping its state in a file, MinIO,
// the API and workers. Ports are free ones; everything lives under one temporary directory.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateSecrets } from '#lib/local-secrets.js';
import { registerSearchAttributes } from '../../scripts/search-attributes.js';
import { binary, freePort, freePorts } from '../../scripts/services.js';

const root = path.resolve(import.meta.dirname, '../..');

/** One process the suite starts, kills (any signal) and starts again with the same arguments. */
export class Proc {
  proc: ChildProcess | undefined;
  exited: Promise<void> = Promise.resolve();
  starts = 0;
  constructor(
    readonly name: string,
    private readonly cmd: string,
    private readonly args: string[],
    private readonly opts: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; logDir: string; cwd?: string },
  ) {}

  get running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const log = path.join(this.opts.logDir, `${this.name}.log`);
    const fd = fs.openSync(log, 'a');
    fs.writeSync(fd, `\n=== ${new Date().toISOString()} start #${++this.starts}\n`);
    const proc = spawn(this.cmd, this.args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...this.opts.env }, uid: this.opts.uid, gid: this.opts.gid, cwd: this.opts.cwd ?? root });
    fs.closeSync(fd);
    this.proc = proc;
    this.exited = new Promise((resolve) => {
      proc.once('exit', () => resolve());
      proc.once('error', () => resolve());
    });
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<void> {
    if (!this.running) return;
    this.proc!.kill(signal);
    const timer = new AbortController();
    const exited = await Promise.race([this.exited.then(() => true), sleep(graceMs, false, { signal: timer.signal }).catch(() => false)]);
    timer.abort();
    if (!exited && this.running) {
      this.proc!.kill('SIGKILL');
      await this.exited;
    }
  }
}

export interface Stack {
  dir: string;
  apiUrl: string;
  databaseUrl: string;
  env: NodeJS.ProcessEnv;
  postgres: Proc;
  temporal: Proc;
  minio: Proc;
  api: Proc;
  workers: Proc[];
  /** `pg_ctl stop -m immediate` of the suite's own cluster. */
  stopPostgresImmediately(): void;
  waitHealthy(timeoutMs: number): Promise<number>;
  teardown(keep: boolean): Promise<void>;
}

function osUser(name: string): { uid: number; gid: number } | undefined {
  const u = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  return u.status === 0 && g.status === 0 ? { uid: Number(u.stdout), gid: Number(g.stdout) } : undefined;
}

function pgBinDir(): string {
  const versions = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (fs.existsSync(`/usr/lib/postgresql/${v}/bin/initdb`)) return `/usr/lib/postgresql/${v}/bin`;
  throw new Error('the fault suite needs the Postgres server binaries (/usr/lib/postgresql/<version>/bin): apt-get install postgresql');
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>, proc?: Proc): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (proc && !proc.running) throw new Error(`${proc.name} exited while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

export async function startStack(opts: { workers: number; log: (line: string) => void; env?: NodeJS.ProcessEnv }): Promise<Stack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediaflow-faults-'));
  fs.chmodSync(dir, 0o711);
  const logDir = path.join(dir, 'logs');
  fs.mkdirSync(logDir);
  const secrets = generateSecrets();
  const [pgPort, temporalPort, minioPort, minioConsolePort, apiPort] = await freePorts(5);

  // Postgres: a cluster of the suite's own, run as the postgres OS user when the suite runs as root.
  const bin = pgBinDir();
  const user = process.getuid?.() === 0 ? osUser('postgres') : undefined;
  const cluster = path.join(dir, 'postgres');
  fs.mkdirSync(cluster, { mode: 0o700 });
  if (user) fs.chownSync(cluster, user.uid, user.gid);
  const init = spawnSync(path.join(bin, 'initdb'), ['-D', cluster, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale'], { uid: user?.uid, gid: user?.gid, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const postgres = new Proc(
    'postgres',
    path.join(bin, 'postgres'),
    // fsync off: an immediate stop is not a power cut, what was written stays in the page cache.
    ['-D', cluster, '-p', String(pgPort), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300', '-c', 'fsync=off'],
    { logDir, uid: user?.uid, gid: user?.gid, cwd: dir },
  );
  const databaseUrl = `postgresql://postgres@127.0.0.1:${pgPort}/mediaflow`;
  const temporalBin = binary('TEMPORAL_BIN', 'temporal');
  const temporal = new Proc(
    'temporal',
    temporalBin,
    ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(temporalPort), '--headless', '--db-filename', path.join(dir, 'temporal.db'), '--log-level', 'error', '--dynamic-config-value', 'system.enableActivityEagerExecution=true'],
    { logDir },
  );
  const minio = new Proc(
    'minio',
    binary('MINIO_BIN', 'minio'),
    ['server', path.join(dir, 'minio'), '--address', `127.0.0.1:${minioPort}`, '--console-address', `127.0.0.1:${minioConsolePort}`, '--quiet'],
    { logDir, env: { MINIO_ROOT_USER: secrets.S3_ACCESS_KEY, MINIO_ROOT_PASSWORD: secrets.S3_SECRET_KEY, MINIO_UPDATE: 'off', MINIO_BROWSER: 'off' } },
  );
  opts.log(`stack in ${dir}: postgres :${pgPort}, temporal :${temporalPort}, minio :${minioPort}, api :${apiPort}`);
  postgres.start();
  temporal.start();
  minio.start();

  const pgModule = 'pg';
  const pg = (await import(pgModule)) as { default: { Client: new (o: { connectionString: string }) => { connect(): Promise<void>; query(q: string): Promise<unknown>; end(): Promise<void> } } };
  const admin = async (sql?: string) => {
    const c = new pg.default.Client({ connectionString: `postgresql://postgres@127.0.0.1:${pgPort}/postgres` });
    try {
      await c.connect();
      if (sql) await c.query(sql);
      return true;
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  await until('postgres', 60_000, () => admin(), postgres);
  await admin('create database mediaflow');

  const env: NodeJS.ProcessEnv = {
    ...secrets,
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_MAX: '10',
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_METRICS_BIND: '',
    S3_ENDPOINT: `http://127.0.0.1:${minioPort}`,
    S3_BUCKET: 'mediaflow-faults',
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    API_BASE_URL: `http://127.0.0.1:${apiPort}`,
    CONSOLE_ENABLED: 'false',
    WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
    WEBHOOK_RETRY_INITIAL_MS: '500',
    WEBHOOK_RETRY_MAX_INTERVAL_MS: '5000',
    // The load phase submits hundreds of jobs at once: quotas and rate limits are not under test.
    ORG_CONCURRENT_JOBS: '0',
    ORG_REQUESTS_PER_DAY: '0',
    RATE_LIMIT_JOBS_PER_MINUTE: '100000',
    RATE_LIMIT_READ_PER_MINUTE: '100000',
    RATE_LIMIT_WRITE_PER_MINUTE: '100000',
    RATE_LIMIT_UPLOAD_PER_MINUTE: '100000',
    RATE_LIMIT_AUTH_PER_MINUTE: '100000',
    WORKER_MAX_CONCURRENT_ACTIVITIES: '4',
    ...opts.env,
  };
  const migrate = spawnSync(process.execPath, ['--import', 'tsx', 'entities/migrate.ts'], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (migrate.status !== 0) throw new Error(`migrations failed: ${migrate.stderr}`);
  // One workflow bundle for every worker start (bundling at each start would take most of a restart).
  const bundle = path.join(dir, 'workflow-bundle.js');
  const built = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-workflow-bundle.ts', bundle], { cwd: root, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`workflow bundle: ${built.stderr}`);
  env.WORKFLOW_BUNDLE_PATH = bundle;
  await until('temporal', 60_000, async () => spawnSync(temporalBin, ['operator', 'namespace', 'describe', '--namespace', 'default', '--address', env.TEMPORAL_ADDRESS!, '--command-timeout', '3s'], { stdio: 'ignore' }).status === 0, temporal);
  await registerSearchAttributes({ bin: temporalBin, address: env.TEMPORAL_ADDRESS!, namespace: 'default' });

  const node = (name: string, script: string, extra: NodeJS.ProcessEnv = {}) => new Proc(name, process.execPath, ['--import', 'tsx', script], { logDir, env: { ...env, ...extra } });
  const api = node('api', 'api/main.ts');
  const workers: Proc[] = [];
  for (let i = 0; i < opts.workers; i++) workers.push(node(`worker-${i + 1}`, 'worker/main.ts', { WORKER_METRICS_PORT: String(await freePort()) }));
  api.start();
  for (const w of workers) w.start();

  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const stack: Stack = {
    dir,
    apiUrl,
    databaseUrl,
    env,
    postgres,
    temporal,
    minio,
    api,
    workers,
    stopPostgresImmediately() {
      const r = spawnSync(path.join(bin, 'pg_ctl'), ['stop', '-D', cluster, '-m', 'immediate'], { uid: user?.uid, gid: user?.gid, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`pg_ctl stop -m immediate failed: ${r.stderr}`);
    },
    /** Waits until GET /health answers 200; returns how long it took. */
    async waitHealthy(timeoutMs) {
      const t0 = Date.now();
      await until('the API to be healthy', timeoutMs, async () => (await fetch(`${apiUrl}/api/v1/health`, { signal: AbortSignal.timeout(3000) })).status === 200, api);
      return Date.now() - t0;
    },
    async teardown(keep) {
      await Promise.all([api, ...workers].map((p) => p.stop('SIGTERM', 15_000)));
      await Promise.all([temporal.stop('SIGTERM', 10_000), minio.stop('SIGTERM', 10_000), postgres.stop('SIGINT', 10_000)]);
      if (!keep) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  process.on('exit', () => {
    for (const p of [api, ...workers, temporal, minio]) if (p.running) p.proc!.kill('SIGKILL');
    if (postgres.running) postgres.proc!.kill('SIGQUIT');
  });
  await stack.waitHealthy(180_000);
  return stack;
}
