// One load run, in its own process so the load generator never shares an event loop with the
// server it measures: `node --import tsx bench/api-load.ts '<json LoadSpec>'` prints one JSON line.
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
}

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  /** Replies that were not 2xx, plus errors and timeouts. */
  failures: number;
  statuses: Record<string, number>;
  /** CPU milliseconds this load generator used (warm-up included), which the server's machine also paid. */
  cpuMs?: number;
}

function run(spec: LoadSpec, durationSeconds: number, record: boolean): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let failures = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        method: spec.method ?? 'GET',
        headers: spec.headers,
        body: spec.body,
        connections: spec.connections,
        duration: durationSeconds,
        timeout: 30,
      },
      (err, result) => {
        if (err) return reject(err);
        failures += result.errors + result.timeouts;
        latencies.sort((a, b) => a - b);
        const at = (q: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! : NaN);
        const seconds = result.duration || durationSeconds;
        resolve({
          requests: latencies.length,
          requestsPerSecond: Math.round(latencies.length / seconds),
          p50: round(at(0.5)),
          p95: round(at(0.95)),
          p99: round(at(0.99)),
          failures,
          statuses,
        });
      },
    );
    if (record) {
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
        if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
        else failures += 1;
      });
    }
  });
}
const round = (n: number) => Math.round(n * 10) / 10;

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
if (spec.warmupSeconds > 0) await run(spec, spec.warmupSeconds, false);
const result = await run(spec, spec.durationSeconds, true);
const { user, system } = process.cpuUsage();
process.stdout.write(`${JSON.stringify({ ...result, cpuMs: (user + system) / 1000 })}\n`);
