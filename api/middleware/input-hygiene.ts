import { ValidationError } from '#lib/errors.js';
import type { AppMiddleware } from '../handler.js';

/** Deepest JSON nesting accepted anywhere: real payloads stay far below; deeper ones only attack recursion. */
export const MAX_JSON_DEPTH = 64;

type Location = 'path' | 'query' | 'header' | 'body';

const refuse = (location: Location, field: string, message: string) =>
  new ValidationError('Request validation failed', { fields: [{ field, location, message }] });

/** A NUL byte: Postgres text cannot hold one, and no name, filename or filter needs one. */
export const hasNul = (s: string): boolean => s.includes('\0');

/**
 * Refuses NUL bytes in the request line and headers before anything (authentication, rate limits,
 * the database) reads them. Runs once per request, ahead of the router.
 */
export function inputHygiene(): AppMiddleware {
  return async function inputHygiene(ctx, next) {
    // %00 decodes to NUL in path and query parameters alike; a literal NUL never passes Node's parser.
    const url = ctx.originalUrl;
    const at = url.search(/%00|\0/i);
    if (at >= 0) {
      const q = url.indexOf('?');
      const inQuery = q >= 0 && at > q;
      throw refuse(inQuery ? 'query' : 'path', inQuery ? 'query' : 'path', 'must not contain NUL bytes');
    }
    for (const [name, value] of Object.entries(ctx.headers)) {
      const values = Array.isArray(value) ? value : [value ?? ''];
      if (values.some(hasNul)) throw refuse('header', name, 'must not contain NUL bytes');
    }
    await next();
  };
}

/**
 * The first problem of a parsed JSON value: nesting deeper than `maxDepth`, or a NUL byte in a
 * string or property name. Iterative, so a hostile depth cannot overflow the stack here.
 */
export function jsonProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): { field: string; message: string } | null {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 0, path: '' }];
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (hasNul(v)) return { field: path || '(body)', message: 'must not contain NUL bytes' };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) return { field: path || '(body)', message: `is nested deeper than ${maxDepth} levels` };
    for (const [k, child] of Object.entries(v)) {
      if (hasNul(k)) return { field: path || '(body)', message: 'has a property name containing NUL bytes' };
      stack.push({ v: child, depth: depth + 1, path: Array.isArray(v) ? `${path}[${k}]` : path ? `${path}.${k}` : k });
    }
  }
  return null;
}

/** Throws 400 VALIDATION_ERROR when `value` fails jsonProblem. */
export function assertSafeJson(value: unknown, location: Location = 'body'): void {
  const problem = jsonProblem(value);
  if (problem) throw refuse(location, problem.field, problem.message);
}

/** Throws 400 VALIDATION_ERROR when a client-supplied string (a filename, a metadata value) holds a NUL byte. */
export function assertNoNul(value: string, location: Location, field: string): void {
  if (hasNul(value)) throw refuse(location, field, 'must not contain NUL bytes');
}
