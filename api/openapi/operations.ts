import { isObject, resolveRef, type Json, type JsonObject } from './document.js';

export type ParamLocation = 'path' | 'query' | 'header';
export interface Parameter {
  name: string;
  in: ParamLocation;
  required: boolean;
  schema: Json;
}

export interface Operation {
  operationId: string;
  method: 'head' | 'get' | 'put' | 'post' | 'delete' | 'patch' | 'options';
  path: string; // as written in the spec: /api/v1/jobs/{id}
  routerPath: string; // for @koa/router: /api/v1/jobs/:id
  parameters: Parameter[];
  body?: { required: boolean; contentTypes: Record<string, Json> };
  /** Security requirement alternatives, each a list of scheme names; empty: public. */
  security: string[][];
  /** `x-permission`: what the caller needs (secured operations must say). */
  permission?: string;
  /** `x-rate-limit`: the route class counted, or `none`. */
  rateLimit?: string;
}

// `head` before `get`: @koa/router answers HEAD with a path's GET route unless a HEAD route comes first.
const METHODS = ['head', 'get', 'put', 'post', 'delete', 'patch', 'options'] as const;

export function listOperations(doc: JsonObject): Operation[] {
  const paths = doc.paths;
  if (!isObject(paths)) throw new Error('spec has no paths');
  const ops: Operation[] = [];
  const defaultSecurity = doc.security;
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = resolveRef<JsonObject>(doc, rawItem);
    const shared = asArray(item.parameters);
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      if (typeof op.operationId !== 'string') throw new Error(`${method.toUpperCase()} ${path} has no operationId`);
      const byKey = new Map<string, Parameter>();
      for (const raw of [...shared, ...asArray(op.parameters)]) {
        const p = resolveRef<JsonObject>(doc, raw);
        if (p.in === 'cookie') continue;
        const param: Parameter = {
          name: p.in === 'header' ? String(p.name).toLowerCase() : String(p.name),
          in: p.in as ParamLocation,
          required: p.required === true || p.in === 'path',
          schema: p.schema ?? {},
        };
        byKey.set(`${param.in}:${param.name}`, param);
      }
      let body: Operation['body'];
      if (op.requestBody !== undefined) {
        const rb = resolveRef<JsonObject>(doc, op.requestBody);
        const content = isObject(rb.content) ? rb.content : {};
        body = {
          required: rb.required === true,
          contentTypes: Object.fromEntries(
            Object.entries(content).map(([type, media]) => [type, isObject(media) ? (media.schema ?? {}) : {}]),
          ),
        };
      }
      ops.push({
        operationId: op.operationId,
        method,
        path,
        routerPath: path.replace(/\{([^}]+)\}/g, ':$1'),
        parameters: [...byKey.values()],
        body,
        security: securityOf(op.security ?? defaultSecurity),
        permission: typeof op['x-permission'] === 'string' ? op['x-permission'] : undefined,
        rateLimit: typeof op['x-rate-limit'] === 'string' ? op['x-rate-limit'] : undefined,
      });
    }
  }
  return ops;
}

function securityOf(v: Json | undefined): string[][] {
  return asArray(v).map((req) => (isObject(req) ? Object.keys(req) : [])).filter((names) => names.length > 0);
}

function asArray(v: Json | undefined): Json[] {
  return Array.isArray(v) ? v : [];
}
