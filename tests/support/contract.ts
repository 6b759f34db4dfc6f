// The contract check: every reply the API sends during the integration tests is held against
// openapi/openapi.yaml — its status must be declared for the operation, its content type must be one
// the response declares, and a JSON body must validate against the declared schema. The harness
// watches the server side, so replies to any client (fetch, tus-js-client, curl) are checked.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ValidateFunction } from 'ajv';
import { createAjv } from '#lib/ajv.js';
import { isObject, loadSpec, resolveRef, type Json, type JsonObject } from '#api/openapi/document.js';
import { listOperations, type Operation } from '#api/openapi/operations.js';
import { rewriteRefs, withComponents } from '#api/openapi/validators.js';

interface DeclaredResponse {
  /** Media type (or `type/*`) → compiled body validator, when JSON with a schema. */
  content: Map<string, ValidateFunction | undefined>;
  requiredHeaders: string[];
}

interface Route {
  op: Operation;
  pattern: RegExp;
  specificity: number;
  responses: Map<string, DeclaredResponse>;
}

export interface ContractChecker {
  watch(req: IncomingMessage, res: ServerResponse): void;
  /** Distinct violations seen so far. */
  violations(): string[];
}

// Bodies larger than this are not buffered for validation (downloads); their type is still checked.
const MAX_CAPTURE = 4 * 1024 * 1024;

let compiled: Route[] | undefined;

function compileRoutes(): Route[] {
  if (compiled) return compiled;
  const doc = loadSpec();
  const ajv = withComponents(createAjv(), doc);
  const routes: Route[] = [];
  for (const op of listOperations(doc)) {
    const raw = (doc.paths as JsonObject)[op.path] as JsonObject;
    const item = resolveRef<JsonObject>(doc, raw);
    const operation = item[op.method] as JsonObject;
    const responses = new Map<string, DeclaredResponse>();
    for (const [status, r] of Object.entries(isObject(operation.responses) ? operation.responses : {})) {
      const resp = resolveRef<JsonObject>(doc, r);
      const content = new Map<string, ValidateFunction | undefined>();
      for (const [type, media] of Object.entries(isObject(resp.content) ? resp.content : {})) {
        const schema = isObject(media) ? media.schema : undefined;
        const json = type === 'application/json' || type.endsWith('+json');
        content.set(type, json && schema !== undefined ? ajv.compile(rewriteRefs(schema as Json) as object) : undefined);
      }
      const headers = isObject(resp.headers) ? resp.headers : {};
      const requiredHeaders = Object.entries(headers)
        .filter(([, h]) => isObject(resolveRef<JsonObject>(doc, h)) && resolveRef<JsonObject>(doc, h).required === true)
        .map(([name]) => name.toLowerCase());
      responses.set(status.toUpperCase(), { content, requiredHeaders });
    }
    const params = (op.path.match(/\{[^}]+\}/g) ?? []).length;
    const pattern = new RegExp('^' + op.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+') + '$');
    routes.push({ op, pattern, specificity: params, responses });
  }
  // Static segments win over parameters (`/media/upload` before `/media/{id}`).
  compiled = routes.sort((a, b) => a.specificity - b.specificity);
  return compiled;
}

function findRoute(method: string, path: string): Route | undefined {
  const m = method.toLowerCase();
  const routes = compileRoutes();
  return (
    routes.find((r) => r.op.method === m && r.pattern.test(path)) ??
    (m === 'head' ? routes.find((r) => r.op.method === 'get' && r.pattern.test(path)) : undefined)
  );
}

function isErrorFormat(body: Buffer): boolean {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { code?: unknown; message?: unknown } };
    return typeof parsed.error?.code === 'string' && typeof parsed.error.message === 'string';
  } catch {
    return false;
  }
}

function declaredFor(route: Route, status: number): DeclaredResponse | undefined {
  const s = String(status);
  // `default` stands for server errors only: every 2xx/3xx/4xx a route sends is declared by status.
  return route.responses.get(s) ?? route.responses.get(`${s[0]}XX`) ?? (status >= 500 ? route.responses.get('DEFAULT') : undefined);
}

function matchType(declared: Map<string, ValidateFunction | undefined>, actual: string): [boolean, ValidateFunction | undefined] {
  if (declared.has(actual)) return [true, declared.get(actual)];
  for (const [type, v] of declared) {
    if (type === '*/*' || (type.endsWith('/*') && actual.startsWith(type.slice(0, -1)))) return [true, v];
  }
  return [false, undefined];
}

/**
 * Checks one finished reply; returns the problems found (empty when it keeps the contract).
 * `body` is the JSON body when one was captured; `bodySize` counts every byte sent.
 */
export function checkReply(
  method: string,
  url: string,
  status: number,
  headers: Record<string, string | undefined>,
  body: Buffer | undefined,
  bodySize: number,
): string[] {
  const path = url.split('?')[0] ?? url;
  if (!path.startsWith('/api/')) return [];
  const route = findRoute(method, path) ?? (path.length > 1 && path.endsWith('/') ? findRoute(method, path.slice(0, -1)) : undefined);
  const where = `${method} ${path} → ${status}`;
  if (!route) {
    // Paths no operation declares (probes with extra segments, NUL bytes, a trailing slash) may only
    // be refused, in the error format.
    if (status >= 400 && status < 500) return body && !isErrorFormat(body) ? [`${where}: not in the error format`] : [];
    return [`${where}: no operation in the spec matches`];
  }
  const declared = declaredFor(route, status);
  const op = `${route.op.operationId} (${route.op.method.toUpperCase()} ${route.op.path})`;
  if (!declared) return [`${op}: status ${status} is not declared`];
  const problems: string[] = [];
  for (const h of declared.requiredHeaders) if (headers[h] === undefined) problems.push(`${op} ${status}: header ${h} is missing`);
  const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const empty = method === 'HEAD' || status === 204 || status === 304 || bodySize === 0;
  if (empty) return problems;
  if (declared.content.size === 0) {
    problems.push(`${op} ${status}: sends ${type || 'a body'} but declares no content`);
    return problems;
  }
  const [ok, validate] = matchType(declared.content, type);
  if (!ok) {
    problems.push(`${op} ${status}: sends ${type || 'no content type'}, declares ${[...declared.content.keys()].join(', ')}`);
    return problems;
  }
  if (validate && body) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      problems.push(`${op} ${status}: body is not JSON`);
      return problems;
    }
    if (!validate(parsed)) {
      const errs = (validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message}`);
      problems.push(`${op} ${status}: body does not match the schema: ${errs.join('; ')}`);
    }
  }
  return problems;
}

export function createContractChecker(): ContractChecker {
  const seen = new Set<string>();
  return {
    watch(req, res) {
      // CORS preflights are the browser's protocol, answered before any operation.
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) return;
      const chunks: Buffer[] = [];
      let size = 0;
      let capture: boolean | undefined;
      const keep = (chunk: unknown, encoding?: unknown) => {
        if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
        if (capture === undefined) {
          const type = String(res.getHeader('content-type') ?? '');
          capture = /json/i.test(type);
        }
        const buf = Buffer.isBuffer(chunk)
          ? chunk
          : typeof chunk === 'string'
            ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
            : Buffer.from(chunk as Uint8Array);
        size += buf.length;
        if (capture && size <= MAX_CAPTURE) chunks.push(buf);
      };
      const write = res.write.bind(res) as (...a: unknown[]) => boolean;
      const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
      res.write = ((...args: unknown[]) => {
        keep(args[0], args[1]);
        return write(...args);
      }) as typeof res.write;
      res.end = ((...args: unknown[]) => {
        keep(args[0], args[1]);
        return end(...args);
      }) as typeof res.end;
      res.on('finish', () => {
        const headers: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(res.getHeaders())) headers[k.toLowerCase()] = v === undefined ? undefined : String(v);
        const body = capture && size <= MAX_CAPTURE ? Buffer.concat(chunks) : undefined;
        for (const p of checkReply(req.method ?? 'GET', req.url ?? '/', res.statusCode, headers, body, size)) seen.add(p);
      });
    },
    violations: () => [...seen],
  };
}
