import Router from '@koa/router';
import { MethodNotAllowedError, ValidationError } from '../lib/errors.js';
import type { AppContext, AppMiddleware, AppState, Routes } from './handler.js';
import type { JsonObject } from './openapi/document.js';
import { listOperations, type Operation } from './openapi/operations.js';
import { compileValidators, type RequestValidator } from './openapi/validators.js';

/**
 * Builds the API router from the spec: every operation gets [guard..., before..., validate, handler],
 * where the guard (authentication, rate limit, permission) follows the operation's `security`,
 * `x-rate-limit` and `x-permission`. Boot fails when an operation has no route, a route has no
 * operation, or a secured operation does not name its permission.
 */
export function buildRouter(
  doc: JsonObject,
  routes: Partial<Routes> & Record<string, unknown>,
  guard: (op: Operation) => AppMiddleware[] = () => [],
): Router<AppState> {
  const operations = listOperations(doc);
  const unguarded = operations.filter((o) => o.security.length > 0 && !o.permission).map((o) => o.operationId);
  if (unguarded.length) throw new Error(`secured operations without x-permission: ${unguarded.join(', ')}`);
  const ids = new Set(operations.map((o) => o.operationId));
  const missing = [...ids].filter((id) => !(id in routes));
  const extra = Object.keys(routes).filter((id) => !ids.has(id));
  if (missing.length || extra.length) {
    throw new Error(
      [
        missing.length ? `operations without a handler: ${missing.join(', ')}` : '',
        extra.length ? `handlers without an operation in openapi.yaml: ${extra.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; '),
    );
  }
  const validators = compileValidators(doc, operations);
  const router = new Router<AppState>();
  for (const op of operations) {
    const route = routes[op.operationId as keyof Routes]!;
    const validate = validateRequest(validators.get(op.operationId)!);
    const handle: AppMiddleware = async (ctx) => {
      const { path, query, body } = ctx.state.input;
      await (route.handle as (c: AppContext, i: unknown) => Promise<void>)(ctx as AppContext, { path, query, body });
    };
    Object.defineProperty(handle, 'name', { value: op.operationId });
    router.register(op.routerPath, [op.method.toUpperCase()], [...guard(op), ...(route.before ?? []), validate, handle], {
      name: op.operationId,
    });
  }
  return router;
}

function validateRequest(validator: RequestValidator): AppMiddleware {
  return async function validate(ctx, next) {
    const requestBody = (ctx.request as { body?: unknown }).body;
    const path = { ...(ctx as unknown as { params: Record<string, string> }).params };
    const query = { ...ctx.query };
    const header = { ...ctx.headers };
    const contentType = ctx.request.type || undefined;
    // Multipart bodies stream through their handler: only their presence and type are checked here.
    const length = ctx.get('content-length');
    const hasBody = ctx.get('transfer-encoding') !== '' || (length !== '' && length !== '0');
    const errors = validator({ path, query, header, contentType, body: requestBody, hasBody });
    if (errors.length) throw new ValidationError('Request validation failed', { fields: errors });
    ctx.state.input = { path, query, header, body: requestBody };
    await next();
  };
}

/** A known path with an unsupported method: 405 with Allow. Runs after the router found no route. */
export function methodNotAllowed(router: Router<AppState>): AppMiddleware {
  return async function methodNotAllowed(ctx, next) {
    if (ctx.status === 404 && ctx.body === undefined) {
      const allowed = new Set(router.match(ctx.path, ctx.method).path.flatMap((layer) => layer.methods));
      if (allowed.size) throw new MethodNotAllowedError([...allowed].sort());
    }
    await next();
  };
}
