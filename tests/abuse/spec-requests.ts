// Requests generated from openapi/openapi.yaml for the abuse suite: a plausible request for every
// operation (path parameters filled, a body that satisfies the schema's shape), from which the
// suites derive the hostile variants. Nothing here is hand-listed per operation, so an operation
// added to the spec is attacked the day it lands.
import { randomUUID } from 'node:crypto';
import { isObject, loadSpec, resolveRef, type Json, type JsonObject } from '#api/openapi/document.js';
import { listOperations, type Operation, type Parameter } from '#api/openapi/operations.js';
import type { ApiClient } from '../support/tenants.js';

export const doc: JsonObject = loadSpec();
export const operations: Operation[] = listOperations(doc);

export const schemaOf = (schema: Json | undefined): JsonObject => {
  const s = schema === undefined ? {} : resolveRef<Json>(doc, schema);
  return isObject(s) ? s : {};
};

/** The first branch of a oneOf/anyOf/allOf, merged: enough to build a sample. */
function flatten(schema: JsonObject): JsonObject {
  for (const k of ['oneOf', 'anyOf'] as const) {
    const branches = schema[k];
    if (Array.isArray(branches) && branches.length) {
      const first = branches.map((b) => schemaOf(b)).find((b) => b.type !== 'null') ?? schemaOf(branches[0]);
      return flatten({ ...schema, [k]: undefined as unknown as Json, ...first });
    }
  }
  const all = schema.allOf;
  if (Array.isArray(all)) {
    return all.map((b) => flatten(schemaOf(b))).reduce<JsonObject>(
      (acc, b) => ({
        ...acc,
        ...b,
        properties: { ...(isObject(acc.properties) ? acc.properties : {}), ...(isObject(b.properties) ? b.properties : {}) },
        required: [...(Array.isArray(acc.required) ? acc.required : []), ...(Array.isArray(b.required) ? b.required : [])],
      }),
      { ...schema, allOf: undefined as unknown as Json },
    );
  }
  return schema;
}

export const typeOf = (schema: JsonObject): string | undefined => {
  const s = flatten(schema);
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  if (typeof t === 'string') return t;
  if (isObject(s.properties)) return 'object';
  if (s.items !== undefined) return 'array';
  return undefined;
};

/** A value the schema accepts (or nearly: enough for the request to reach the field's own checks). */
export function sample(schema: Json | undefined, depth = 0): Json {
  const s = flatten(schemaOf(schema));
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum.find((v) => v !== null) ?? s.enum[0]!;
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined && s.default !== null) return s.default;
  switch (typeOf(s)) {
    case 'string':
      if (s.format === 'uuid') return randomUUID();
      if (s.format === 'email') return `abuse-${randomUUID()}@example.test`;
      if (s.format === 'uri' || s.format === 'url') return 'https://example.com/abuse';
      if (s.format === 'date-time') return new Date().toISOString();
      if (s.format === 'date') return new Date().toISOString().slice(0, 10);
      if (typeof s.pattern === 'string' && /\[0-9a-f\]\{64\}|\{64\}/.test(s.pattern)) return 'a'.repeat(64);
      return 'x'.repeat(Math.max(Number(s.minLength ?? 1), 1));
    case 'integer':
    case 'number':
      return Number(s.minimum ?? s.exclusiveMinimum ?? 1) + (s.exclusiveMinimum !== undefined ? 1 : 0);
    case 'boolean':
      return false;
    case 'array': {
      const n = Math.max(Number(s.minItems ?? 1), 1);
      return depth > 4 ? [] : Array.from({ length: n }, () => sample(s.items, depth + 1));
    }
    case 'object': {
      const out: JsonObject = {};
      if (depth > 4) return out;
      const props = isObject(s.properties) ? s.properties : {};
      const required = Array.isArray(s.required) ? (s.required as string[]) : [];
      for (const name of required) if (props[name] !== undefined) out[name] = sample(props[name], depth + 1);
      return out;
    }
    default:
      return 'x';
  }
}

/** The request body's JSON schema, when the operation takes JSON. */
export const jsonBodySchema = (op: Operation): JsonObject | undefined => {
  const b = op.body?.contentTypes['application/json'];
  return b === undefined ? undefined : flatten(schemaOf(b));
};

/** Path with its parameters filled: uuids from `ids` (in order) or fresh, others from their schema. */
export function fillPath(op: Operation, value: (p: Parameter) => string = (p) => String(sample(p.schema))): string {
  return op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const p = op.parameters.find((x) => x.in === 'path' && x.name === name);
    return encodeURIComponent(p ? value(p) : randomUUID());
  });
}

export const isUuidParam = (p: Parameter): boolean => flatten(schemaOf(p.schema)).format === 'uuid';

export interface Sent {
  status: number;
  text: string;
  contentType: string;
}

/** Sends and reads the whole reply (streams such as SSE are cut after a short while: only their status matters). */
export async function send(c: ApiClient, method: string, path: string, init: { headers?: Record<string, string>; body?: RequestInit["body"] } = {}): Promise<Sent> {
  const res = await c.fetch(path, { method: method.toUpperCase(), headers: init.headers, body: init.body, signal: AbortSignal.timeout(15_000) });
  const contentType = res.headers.get('content-type') ?? '';
  if (contentType.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, text: '', contentType };
  }
  return { status: res.status, text: await res.text(), contentType };
}

/** The common error format: `{"error": {"code", "message", "details", "request_id"}}`. */
export function errorFormatProblem(r: Sent, method: string): string | null {
  if (r.status < 400 || method.toUpperCase() === 'HEAD') return null;
  let body: unknown;
  try {
    body = JSON.parse(r.text);
  } catch {
    return `a ${r.status} whose body is not JSON: ${r.text.slice(0, 120)}`;
  }
  const e = (body as { error?: Record<string, unknown> }).error;
  if (!isObject(e as Json) || typeof e!.code !== 'string' || typeof e!.message !== 'string' || !isObject(e!.details as Json) || typeof e!.request_id !== 'string') {
    return `a ${r.status} not in the error format: ${r.text.slice(0, 200)}`;
  }
  return null;
}
