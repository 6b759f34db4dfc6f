// Starts the backing services for `npm start` and the test suite: a Temporal dev server, a MinIO server
// and (for `npm start`, if none answers) a throw-away local Postgres cluster. Binaries come from
// scripts/bootstrap.sh (TEMPORAL_BIN / MINIO_BIN, or $MEDIAFLOW_BIN_DIR). Only what is started here
// is stopped here.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

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

const STOP_GRACE_MS = 10_000;

interface Child {
  name: string;
  proc: ChildProcess;
  logFile: string;
  stopSignal: NodeJS.Signals;
  /** Signal sent from a synchronous process 'exit' handler (cannot wait there). */
  exitSignal: NodeJS.Signals;
  exited: Promise<void>;
}

// Every child started by any startServices call; killed if this process exits without stop().
const liveChildren = new Set<Child>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of liveChildren) {
      if (isRunning(c.proc)) {
        try {
          c.proc.kill(c.exitSignal);
        } catch {
          /* already gone */
        }
      }
    }
  });
}

function isRunning(p: ChildProcess): boolean {
  return p.exitCode === null && p.signalCode === null;
}

export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/**
 * `n` distinct free ports: every listener stays open until all have a port (ports taken one after
 * another could be the same one, handed out again once the first listener closed).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    return await Promise.all(
      Array.from({ length: n }, () => {
        const srv = net.createServer();
        srv.unref();
        servers.push(srv);
        return new Promise<number>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(0, '127.0.0.1', () => {
            const addr = srv.address();
            if (typeof addr === 'object' && addr) resolve(addr.port);
            else reject(new Error('could not allocate a free port'));
          });
        });
      }),
    );
  } finally {
    await Promise.all(servers.map((srv) => new Promise((resolve) => (srv.listening ? srv.close(resolve) : resolve(undefined)))));
  }
}

async function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

async function assertPortFree(port: number, what: string, hint: string): Promise<void> {
  if (!(await portIsFree(port))) {
    throw new Error(`port ${port} (${what}) is already in use on 127.0.0.1: ${hint}`);
  }
}

function tcpAccepts(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function binDir(): string {
  return process.env.MEDIAFLOW_BIN_DIR || path.join(os.homedir(), '.cache', 'mediaflow', 'bin');
}

export function binary(envName: string, name: string): string {
  const p = process.env[envName] || path.join(binDir(), name);
  try {
    fs.accessSync(p, fs.constants.X_OK);
  } catch {
    throw new Error(`${name} binary not found at ${p}: run "source scripts/bootstrap.sh" (builds it once) or set ${envName}`);
  }
  return p;
}

function startChild(
  dataDir: string,
  name: string,
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; stopSignal?: NodeJS.Signals; exitSignal?: NodeJS.Signals } = {},
): Child {
  const logDir = path.join(dataDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}.log`);
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `\n=== ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`);
  let proc: ChildProcess;
  try {
    proc = spawn(cmd, args, {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...opts.env },
      uid: opts.uid,
      gid: opts.gid,
    });
  } finally {
    fs.closeSync(fd);
  }
  const exited = new Promise<void>((resolve) => {
    if (!isRunning(proc)) return resolve();
    proc.once('exit', () => resolve());
    proc.once('error', () => resolve());
  });
  proc.on('error', (err) => fs.appendFileSync(logFile, `spawn error: ${err.message}\n`));
  const child: Child = {
    name,
    proc,
    logFile,
    stopSignal: opts.stopSignal ?? 'SIGTERM',
    exitSignal: opts.exitSignal ?? 'SIGKILL',
    exited,
  };
  liveChildren.add(child);
  void exited.then(() => liveChildren.delete(child));
  installExitHook();
  return child;
}

/** Whether `exited` settles within `ms` (without leaving a timer behind that keeps the process alive). */
async function exitsWithin(exited: Promise<void>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      exited.then(() => true),
      sleep(ms, false, { signal: timer.signal }).catch(() => false),
    ]);
  } finally {
    timer.abort();
  }
}

async function stopChild(c: Child): Promise<void> {
  if (isRunning(c.proc) && c.proc.pid !== undefined) {
    c.proc.kill(c.stopSignal);
    if (!(await exitsWithin(c.exited, STOP_GRACE_MS)) && isRunning(c.proc)) {
      c.proc.kill('SIGKILL');
      await c.exited;
    }
  }
  liveChildren.delete(c);
}

function diedError(c: Child): Error {
  const how = c.proc.signalCode ? `signal ${c.proc.signalCode}` : `exit code ${c.proc.exitCode}`;
  return new Error(`${c.name} exited during startup (${how}); last lines of ${c.logFile}:\n${tail(c.logFile)}`);
}

/** Polls `check` until it returns true; throws if the child dies or the timeout passes. */
async function waitFor(c: Child, what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(c.proc)) throw diedError(c);
    if (await check()) return;
    if (!isRunning(c.proc)) throw diedError(c);
    if (Date.now() > deadline) {
      throw new Error(`${c.name}: timed out after ${timeoutMs / 1000}s waiting for ${what}; last lines of ${c.logFile}:\n${tail(c.logFile)}`);
    }
    await sleep(300);
  }
}

function runQuiet(cmd: string, args: string[], timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: 'ignore', timeout: timeoutMs });
    p.once('error', () => resolve(false));
    p.once('exit', (code) => resolve(code === 0));
  });
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

// ---------------------------------------------------------------- Postgres

interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rowCount: number | null; rows: unknown[] }>;
  end(): Promise<void>;
}
interface PgModule {
  Client: new (config: { connectionString: string; connectionTimeoutMillis?: number }) => PgClient;
}

async function loadPg(): Promise<PgModule> {
  // `pg` comes with @mikro-orm/postgresql; a non-literal specifier because it ships no types.
  const specifier = 'pg';
  const mod = (await import(specifier)) as { default?: PgModule } & Partial<PgModule>;
  return (mod.Client ? mod : mod.default) as PgModule;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new Error(`DATABASE_URL ${url} names no database`);
  return name;
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** Connects to the server's maintenance database; 'down' when nothing answers there. */
async function pgConnect(pg: PgModule, url: string): Promise<PgClient | 'down'> {
  const client = new pg.Client({ connectionString: withDatabase(url, 'postgres'), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    const code = (err as { code?: string }).code;
    // 57P03: the database system is starting up / shutting down.
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ETIMEDOUT' || code === '57P03' || /timeout/i.test(String(err))) {
      return 'down';
    }
    throw new Error(`cannot connect to Postgres at ${redact(url)}: ${(err as Error).message}`, { cause: err });
  }
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

async function ensureDatabase(client: PgClient, name: string, log: (l: string) => void): Promise<void> {
  const r = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (r.rowCount) return;
  try {
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
    log(`created database ${name}`);
  } catch (err) {
    if ((err as { code?: string }).code !== '42P04') throw err; // created concurrently
  }
}

function isLocalHost(host: string): boolean {
  return host === '' || host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host === '::1';
}

function findPgBinDir(): string | null {
  // Debian/Ubuntu keep the server binaries in /usr/lib/postgresql/<major>/bin (not on PATH).
  const candidates: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir) candidates.push(dir);
  }
  try {
    const versions = fs
      .readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    /* not Debian-like */
  }
  for (const dir of candidates) {
    const initdb = path.join(dir, 'initdb');
    const postgres = path.join(dir, 'postgres');
    try {
      fs.accessSync(initdb, fs.constants.X_OK);
      // /usr/local/bin/initdb may be a symlink into the real bin dir, which also holds `postgres`.
      const real = path.dirname(fs.realpathSync(initdb));
      if (fs.existsSync(path.join(real, 'postgres'))) return real;
      if (fs.existsSync(postgres)) return dir;
    } catch {
      /* next */
    }
  }
  return null;
}

function osUser(name: string): { uid: number; gid: number } | null {
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return null;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

function runAs(cmd: string, args: string[], user: { uid: number; gid: number } | null, logFile: string): number | null {
  const fd = fs.openSync(logFile, 'a');
  try {
    const r = spawnSync(cmd, args, { stdio: ['ignore', fd, fd], uid: user?.uid, gid: user?.gid });
    return r.status;
  } finally {
    fs.closeSync(fd);
  }
}

async function startLocalPostgres(o: ServicesOptions, pg: PgModule, started: Child[]): Promise<string> {
  const isRoot = process.getuid?.() === 0;
  let binDir = findPgBinDir();
  if (!binDir) {
    if (!isRoot) {
      throw new Error(
        `no Postgres answers at ${redact(o.databaseUrl)} and no Postgres server is installed: run "sudo apt-get install -y postgresql" (or start Postgres yourself, or set DATABASE_URL)`,
      );
    }
    o.log('installing postgresql (apt-get, once)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'postgresql']]) {
      const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
      if (r.status !== 0) throw new Error(`"apt-get ${args.join(' ')}" failed: install the postgresql package yourself`);
    }
    binDir = findPgBinDir();
    if (!binDir) throw new Error('postgresql was installed but initdb was not found under /usr/lib/postgresql/*/bin');
  }
  // Postgres refuses to run as root: run it as the `postgres` OS user then (created by the package).
  const user = isRoot ? osUser('postgres') : null;
  if (isRoot && !user) throw new Error('running as root but there is no "postgres" OS user to run Postgres as: install the postgresql package');

  const cluster = path.join(o.dataDir, 'postgres');
  const logDir = path.join(o.dataDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const initLog = path.join(logDir, 'postgres-initdb.log');
  if (!fs.existsSync(path.join(cluster, 'PG_VERSION'))) {
    o.log(`creating a local Postgres cluster in ${cluster}`);
    fs.mkdirSync(cluster, { recursive: true, mode: 0o700 });
    if (user) {
      fs.chownSync(cluster, user.uid, user.gid);
      // The postgres user must be able to reach the cluster directory.
      for (let d = path.dirname(cluster); d !== path.dirname(d); d = path.dirname(d)) {
        const st = fs.statSync(d);
        if ((st.mode & 0o001) === 0) {
          if (d === path.resolve(o.dataDir)) fs.chmodSync(d, st.mode | 0o011);
          else throw new Error(`the postgres OS user cannot reach ${cluster} (${d} is not world-searchable): use a data directory elsewhere`);
        }
      }
    }
    const status = runAs(
      path.join(binDir, 'initdb'),
      ['-D', cluster, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale'],
      user,
      initLog,
    );
    if (status !== 0) {
      fs.rmSync(cluster, { recursive: true, force: true });
      throw new Error(`initdb failed (exit ${status}); last lines of ${initLog}:\n${tail(initLog)}`);
    }
  }

  const wanted = Number(new URL(o.databaseUrl).port || 5432);
  const port = (await portIsFree(wanted)) ? wanted : await freePort();
  o.log(`starting local Postgres on 127.0.0.1:${port} (cluster in ${cluster})`);
  const c = startChild(
    o.dataDir,
    'postgres',
    path.join(binDir, 'postgres'),
    ['-D', cluster, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    // SIGINT = "fast" shutdown (SIGTERM would wait for clients); SIGQUIT = immediate, for process exit.
    { uid: user?.uid, gid: user?.gid, stopSignal: 'SIGINT', exitSignal: 'SIGQUIT' },
  );
  started.push(c);
  const u = new URL(o.databaseUrl);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  u.username = 'postgres';
  u.password = '';
  const url = u.toString();
  await waitFor(c, `Postgres on 127.0.0.1:${port}`, 60_000, async () => {
    const client = await pgConnect(pg, url).catch(() => 'down' as const);
    if (client === 'down') return false;
    await client.end();
    return true;
  });
  return url;
}

async function preparePostgres(o: ServicesOptions, started: Child[]): Promise<string> {
  const pg = await loadPg();
  const name = databaseName(o.databaseUrl);
  let url = o.databaseUrl;
  let client = await pgConnect(pg, url);
  if (client === 'down') {
    const host = new URL(url).hostname;
    if (!o.startPostgresIfDown || !isLocalHost(host)) {
      throw new Error(`no Postgres answers at ${redact(url)}: start Postgres (e.g. "sudo systemctl start postgresql") or set DATABASE_URL`);
    }
    o.log(`no Postgres answers at ${redact(url)}`);
    url = await startLocalPostgres(o, pg, started);
    client = await pgConnect(pg, url);
    if (client === 'down') throw new Error(`the local Postgres at ${url} does not answer`);
  }
  try {
    await ensureDatabase(client, name, o.log);
  } finally {
    await client.end();
  }
  return url;
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
