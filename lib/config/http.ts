import { resolve } from 'node:path';
import type { EnvReader } from './reader.js';

export interface HttpConfig {
  host: string;
  port: number;
  /**
   * Where /metrics and the health checks are answered (OPS_PORT; 0, the default: on PORT with
   * everything else). When set, PORT no longer answers them, so only what reaches this port —
   * probes, Prometheus — sees them; the Helm chart routes its Ingress to PORT only.
   */
  opsPort: number;
  publicUrl: string;
  bodyLimitKb: number;
  /**
   * Reverse proxies in front of the API (TRUSTED_PROXY_COUNT, default 0): the client's address is
   * the one this many hops from the right of X-Forwarded-For, the last hop a proxy of ours saw.
   * 0: the socket's peer, and X-Forwarded-* are ignored — anything further left is the client's
   * own say, so trusting it lets anyone pick the address rate limits and lockouts count by.
   */
  trustedProxyCount: number;
  shutdownGraceMs: number;
  /** Browser origins besides the API's own that may call it (CORS_ALLOWED_ORIGINS); none by default. */
  corsAllowedOrigins: string[];
}

/** The web console's built files (CONSOLE_DIR, default web/dist); served at / when present. */
export interface ConsoleConfig {
  dir: string;
  enabled: boolean;
}

export function readHttp(r: EnvReader): HttpConfig {
  const port = r.int('PORT', 3000, { max: 65535 });
  const opsPort = r.int('OPS_PORT', 0, { max: 65535 });
  if (opsPort > 0 && opsPort === port) r.problem('OPS_PORT must differ from PORT (or be 0 to answer /metrics and health on PORT)');
  // Its "true" trusted every X-Forwarded-For hop; say so instead of silently counting by the socket.
  if (r.raw('TRUST_PROXY')) r.problem('TRUST_PROXY is replaced by TRUSTED_PROXY_COUNT: the number of reverse proxies in front of the API (0 when none)');
  return {
    // Loopback unless told otherwise: the production image and chart set HOST=0.0.0.0 themselves.
    host: r.string('HOST', '127.0.0.1'),
    port,
    opsPort,
    publicUrl: r.string('API_BASE_URL', `http://localhost:${port}`).replace(/\/$/, ''),
    bodyLimitKb: r.int('JSON_BODY_LIMIT_KB', 1024, { min: 1 }),
    trustedProxyCount: r.int('TRUSTED_PROXY_COUNT', 0, { max: 10 }),
    shutdownGraceMs: r.duration('SHUTDOWN_GRACE_MS', '25s', { unit: 'ms' }),
    // "https://app.example.com,http://localhost:5173": exact origins (scheme, host, port), no paths or wildcards.
    corsAllowedOrigins: r.list('CORS_ALLOWED_ORIGINS', [], (entry) => {
      try {
        const u = new URL(entry);
        if ((u.protocol === 'http:' || u.protocol === 'https:') && u.origin === entry.replace(/\/$/, '')) return { value: u.origin };
      } catch {
        /* reported below */
      }
      return { problem: 'origins such as https://app.example.com' };
    }),
  };
}

export function readConsole(r: EnvReader): ConsoleConfig {
  return { dir: resolve(r.string('CONSOLE_DIR', 'web/dist')), enabled: r.bool('CONSOLE_ENABLED', true) };
}
