import { NotFoundError } from '#lib/errors.js';
import type { AppMiddleware } from '../handler.js';

/** The operations endpoints: Prometheus metrics and the health checks (public, unauthenticated). */
const OPS_PATH = /^\/(metrics|api\/v1\/health(\/live|\/ready)?)\/?$/;

/**
 * With OPS_PORT set, /metrics and the health checks are answered on that port only, and nothing
 * else is: a public entry point (an Ingress, a load balancer) routed to PORT cannot reach them,
 * whatever paths it forwards. Decided by the socket's local port, which no header can change.
 */
export function opsPort(port: number): AppMiddleware {
  return async function opsPort(ctx, next) {
    if (port > 0 && (ctx.req.socket.localPort === port) !== OPS_PATH.test(ctx.path)) throw new NotFoundError('Route');
    await next();
  };
}
