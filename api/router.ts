import Router from '@koa/router';
import { MethodNotAllowedError, ValidationError } from '#lib/errors.js';
import type { AppContext, AppMiddleware, AppState, Routes } from './handler.js';
import type { JsonObject } from './openapi/document.js';
import { listOperations, type Operation } from './openapi/operations.js';
import { compileValidators, type RequestValidator } from './openapi/validators.js';

/** What the app mounts: the routes' middleware, and the methods a path answers (for 405s). */
export interface ApiRouter {
  routes(): AppMiddleware;
  allowedMethods(path: string): string[];
  /** Every registered route once (a route spanning groups is registered in each). */
  readonly stack: { methods: string[]; path: string | RegExp }[];
}

/**
 * The group a route template or request path falls in: its first three segments, lower-cased
 * and without a trailing slash ('/api/v1/jobs'), as @koa/router matches paths (not case- or
 * trailing-slash-sensitive). A template with a parameter there belongs to every group.
 */
function groupOf(path: string): string {
  let end = 0;
  for (let i = 0; i < 3 && end !== -1; i++) end = path.indexOf('/', end + 1);
  return (end === -1 ? path : path.slice(0, end)).replace(/\/$/, '').toLowerCase();
}
const spansGroups = (group: string) => /[:*(]/.test(group);

/**
 * Builds the API router from the spec: every operation gets [guard..., before..., validate, handler],
 * where the guard (authentication, rate limit, permission) follows the operation's `security`,
 * `x-rate-limit` and `x-permission`. Boot fails when an operation has no route, a route has no
 * operation, or a secured operation does not name its permission.
 *
 * @koa/router tests a request against every route in turn, so the operations are split into one
 * router per path group (a dozen routes rather than a hundred on each request), each registered
 * in the spec's order.
 */
export function buildRouter(
  doc: JsonObject,
  routes: Partial<Routes> & Record<string, unknown>,
  guard: (op: Operation) => AppMiddleware[] = () => [],
): ApiRouter {
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
  const groups = new Map<string, Router<AppState>>();
  // Requests outside every group still meet the routes whose template spans groups.
  const rest = new Router<AppState>();
  for (const op of operations) {
    const group = groupOf(op.routerPath);
    if (!spansGroups(group) && !groups.has(group)) groups.set(group, new Router<AppState>());
  }
  for (const op of operations) {
    const route = routes[op.operationId as keyof Routes]!;
    const validate = validateRequest(validators.get(op.operationId)!);
    const handle: AppMiddleware = async (ctx) => {
      const { path, query, body } = ctx.state.input;
      await (route.handle as (c: AppContext, i: unknown) => Promise<void>)(ctx as AppContext, { path, query, body });
    };
    Object.defineProperty(handle, 'name', { value: op.operationId });
    const group = groupOf(op.routerPath);
    const targets = spansGroups(group) ? [...groups.values(), rest] : [groups.get(group)!];
    for (const router of targets) {
      router.register(op.routerPath, [op.method.toUpperCase()], [...guard(op), ...(route.before ?? []), validate, handle], {
        name: op.operationId,
      });
    }
  }
  const routerOf = (path: string) => groups.get(groupOf(path)) ?? rest;
  const middleware = new Map([...groups.values(), rest].map((r) => [r, r.routes() as unknown as AppMiddleware]));
  const stack = [...new Map([...groups.values(), rest].flatMap((r) => r.stack).map((l) => [`${l.methods.join(',')} ${String(l.path)}`, l])).values()];
  return {
    stack,
    routes: () =>
      function routes(ctx, next) {
        return middleware.get(routerOf(ctx.path))!(ctx, next);
      },
    allowedMethods: (path) => [...new Set(routerOf(path).match(path, 'GET').path.flatMap((layer) => layer.methods))],
  };
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
export function methodNotAllowed(router: ApiRouter): AppMiddleware {
  return async function methodNotAllowed(ctx, next) {
    if (ctx.status === 404 && ctx.body === undefined) {
      const allowed = router.allowedMethods(ctx.path);
      if (allowed.length) throw new MethodNotAllowedError(allowed.sort());
    }
    await next();
  };
}
