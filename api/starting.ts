import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Waiting } from '#lib/wait-for.js';
import { uptimeSeconds } from './services/system-service.js';

// Dependency names as the health checks call them.
const CHECK_OF: Record<string, 'database' | 'temporal' | 'storage'> = { postgres: 'database', temporal: 'temporal', storage: 'storage' };

/**
 * What the API answers while it is still connecting to Postgres, Temporal and storage: liveness
 * 200 (the process is fine; a restart would not help), everything else 503 SERVICE_UNAVAILABLE in
 * the error format, with the health checks' shape in `details.checks` and Retry-After.
 */
export function startingHandler(waiting: Waiting) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
    const send = (status: number, body: unknown) => {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': requestId };
      if (status === 503) headers['retry-after'] = '2';
      res.writeHead(status, headers).end(JSON.stringify(body));
      req.resume();
    };
    if (req.method === 'GET' && path === '/api/v1/health/live') return send(200, { status: 'ok', uptime_seconds: uptimeSeconds() });
    const names = [...waiting];
    const checks = Object.fromEntries(
      Object.entries(CHECK_OF).map(([name, check]) => [
        check,
        waiting.has(name) ? { status: 'down', latency_ms: 0, error: `waiting for ${name} at start-up` } : { status: 'up', latency_ms: 0 },
      ]),
    );
    send(503, {
      error: {
        code: 'SERVICE_UNAVAILABLE',
        message: names.length ? `Starting: waiting for ${names.join(', ')}` : 'Starting',
        details: { checks, waiting_for: names },
        request_id: requestId,
      },
    });
  };
}
