// The API process started before its dependencies: it listens at once, answers readiness 503 naming
// what it waits for (and says so in its log), becomes ready once they are there, and recovers by
// itself when storage and Temporal go away and come back. Storage and Temporal sit behind TCP
// forwarders the test opens and closes (the real MinIO and Temporal of the global setup behind them).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../scripts/services.js';

interface Forwarder {
  port: number;
  open(): Promise<void>;
  /** Stops listening and drops every forwarded connection (the dependency is gone). */
  close(): Promise<void>;
}

function forwarder(port: number, target: { host: string; port: number }): Forwarder {
  let server: net.Server | undefined;
  const sockets = new Set<net.Socket>();
  return {
    port,
    open: () =>
      new Promise((resolve, reject) => {
        server = net.createServer((client) => {
          const upstream = net.connect(target.port, target.host);
          for (const s of [client, upstream]) {
            sockets.add(s);
            s.once('close', () => sockets.delete(s));
            s.on('error', () => undefined);
          }
          client.pipe(upstream).pipe(client);
        });
        server.once('error', reject).listen(port, '127.0.0.1', () => resolve());
      }),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        if (!server) return resolve();
        server.close(() => resolve());
      }),
  };
}

let api: ChildProcess | undefined;
let log = '';
let storage: Forwarder;
let temporal: Forwarder;
let url = '';

beforeAll(async () => {
  const s3 = new URL(process.env.S3_ENDPOINT!);
  const [host, tport] = process.env.TEMPORAL_ADDRESS!.split(':');
  storage = forwarder(await freePort(), { host: s3.hostname, port: Number(s3.port) });
  temporal = forwarder(await freePort(), { host: host!, port: Number(tport) });
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  api = spawn(process.execPath, ['--import', 'tsx', 'api/main.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      LOG_LEVEL: 'info',
      CONSOLE_ENABLED: 'false',
      S3_ENDPOINT: `http://127.0.0.1:${storage.port}`,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporal.port}`,
      INFRA_RETRY_INITIAL_MS: '200',
      INFRA_RETRY_MAX_INTERVAL_MS: '1000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  api.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  api.stderr!.on('data', (b: Buffer) => (log += b.toString()));
}, 30_000);

afterAll(async () => {
  api?.kill('SIGTERM');
  await Promise.all([storage?.close(), temporal?.close()]);
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} not reached; API log:\n${log.slice(-3000)}`);
    await sleep(200);
  }
}

const ready = async () => {
  const res = await fetch(`${url}/api/v1/health/ready`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: (await res.json()) as any };
};

test('started before storage and Temporal: listens, answers 503 naming them, logs the wait, and is ready once they are up', async () => {
  const waiting = await until('readiness 503 while starting', async () => {
    const r = await ready();
    return r.status === 503 && r.body.error.details.waiting_for?.length === 2 ? r : undefined;
  });
  expect(waiting.body.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { waiting_for: expect.arrayContaining(['storage', 'temporal']) } });
  expect((await fetch(`${url}/api/v1/health/live`)).status).toBe(200);
  // Another request while starting: 503 in the error format, not a refused connection.
  const early = await fetch(`${url}/api/v1/actions`);
  expect(early.status).toBe(503);
  expect(early.headers.get('retry-after')).toBeTruthy();
  await until('the log saying what it waits for', async () => (/waiting for storage/.test(log) ? true : undefined));

  await storage.open();
  await until('storage no longer waited for', async () => ((await ready()).body.error?.details.waiting_for ?? []).includes('storage') ? undefined : true);
  expect(api!.exitCode).toBeNull();
  await temporal.open();
  const t0 = Date.now();
  await until('ready', async () => ((await ready()).status === 200 ? true : undefined));
  expect(Date.now() - t0).toBeLessThan(20_000);
}, 90_000);

test('storage and Temporal going away and coming back: 503 meanwhile, no exit, ready again within seconds', async () => {
  await until('ready', async () => ((await ready()).status === 200 ? true : undefined));
  await storage.close();
  await temporal.close();
  const down = await until('readiness 503', async () => {
    const r = await ready();
    return r.status === 503 ? r : undefined;
  });
  expect(down.body.error.details.checks.storage.status).toBe('down');
  await sleep(3_000);
  expect(api!.exitCode).toBeNull();
  await storage.open();
  await temporal.open();
  const back = Date.now();
  await until('ready again', async () => ((await ready()).status === 200 ? true : undefined));
  expect(Date.now() - back).toBeLessThan(15_000);
  expect(api!.exitCode).toBeNull();
}, 90_000);
