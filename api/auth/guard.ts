import type { Config, RouteClass } from '#lib/config.js';
import type { AppMiddleware } from '../handler.js';
import { authenticate, authorize, type Authenticator } from '../middleware/auth.js';
import { rateLimit } from '../middleware/rate-limit.js';
import type { Operation } from '../openapi/operations.js';
import type { RateLimitService } from '../services/rate-limit-service.js';
import { ROUTE_CLASSES } from './limits.js';
import { isPermission } from './permissions.js';

export type Guard = (op: Operation) => AppMiddleware[];

/**
 * The middleware the spec asks for in front of an operation: authenticate (per `security`),
 * count (per `x-rate-limit`, by default `read` for GET and `write` otherwise), authorize
 * (per `x-permission`). An unknown permission or route class stops the boot.
 */
export function createGuard(auth: Authenticator, limits: RateLimitService, config: Config): Guard {
  return (op) => {
    const chain: AppMiddleware[] = [];
    if (op.security.length) {
      if (!op.permission || !isPermission(op.permission)) {
        throw new Error(`${op.operationId}: x-permission "${op.permission ?? ''}" is not a known permission`);
      }
      chain.push(authenticate(new Set(op.security.flat()), auth));
    }
    const routeClass = op.rateLimit ?? (op.method === 'get' ? 'read' : 'write');
    if (routeClass !== 'none') {
      if (!(ROUTE_CLASSES as readonly string[]).includes(routeClass)) throw new Error(`${op.operationId}: unknown x-rate-limit "${routeClass}"`);
      chain.push(rateLimit(routeClass as RouteClass, limits, () => config.rateLimits.classes[routeClass as RouteClass]));
    }
    if (op.security.length) chain.push(authorize(op.permission as never));
    return chain;
  };
}
