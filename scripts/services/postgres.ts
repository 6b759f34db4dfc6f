// The database for scripts/services.ts: the one DATABASE_URL names, created if missing, on a
// throw-away local cluster in dataDir when nothing answers and that is allowed (npm start).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ServicesOptions } from '../services.js';
import { startChild, tail, waitFor, type Child } from './children.js';
import { freePort, portIsFree } from './ports.js';

type PostgresOptions = Pick<ServicesOptions, 'dataDir' | 'databaseUrl' | 'startPostgresIfDown' | 'log'>;

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

async function startLocalPostgres(o: PostgresOptions, pg: PgModule, started: Child[]): Promise<string> {
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

export async function preparePostgres(o: PostgresOptions, started: Child[]): Promise<string> {
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
