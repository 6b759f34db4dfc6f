import type { ValidateFunction } from 'ajv';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { createAjv, toFieldErrors, type FieldError } from '#lib/ajv.js';
import { isObject, type Json, type JsonObject } from './document.js';
import type { Operation, ParamLocation } from './operations.js';

export interface RequestParts {
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  header: Record<string, unknown>;
  contentType: string | undefined; // media type without parameters, lower case
  body: unknown;
  hasBody: boolean;
}

export type RequestValidator = (req: RequestParts) => FieldError[];

const SCHEMA_ID = 'mf:/components/schemas/';

/**
 * Compiles one validator per operation, once, at boot. Parameters are coerced from strings
 * (query strings and headers carry no types); JSON bodies are not coerced.
 */
export function compileValidators(doc: JsonObject, operations: Operation[]): Map<string, RequestValidator> {
  const params = withComponents(createAjv({ coerceTypes: 'array', useDefaults: true }), doc);
  const bodies = withComponents(createAjv({ useDefaults: true }), doc);
  const result = new Map<string, RequestValidator>();
  for (const op of operations) {
    const byLocation = (['path', 'query', 'header'] as ParamLocation[]).map((loc) => {
      const list = op.parameters.filter((p) => p.in === loc);
      const schema = {
        type: 'object',
        properties: Object.fromEntries(list.map((p) => [p.name, rewriteRefs(p.schema)])),
        required: list.filter((p) => p.required).map((p) => p.name),
      };
      return { loc, validate: list.length ? params.compile(schema) : undefined };
    });
    const bodyValidators = new Map<string, ValidateFunction>();
    for (const [type, schema] of Object.entries(op.body?.contentTypes ?? {})) {
      if (type === 'application/json') bodyValidators.set(type, bodies.compile(rewriteRefs(schema) as object));
    }
    const accepted = Object.keys(op.body?.contentTypes ?? {});
    result.set(op.operationId, (req) => {
      const errors: FieldError[] = [];
      for (const { loc, validate } of byLocation) {
        if (validate && !validate(req[loc])) errors.push(...toFieldErrors(validate.errors, loc));
      }
      if (op.body) {
        if (!req.hasBody) {
          if (op.body.required) errors.push({ field: 'body', location: 'body', message: 'request body is required' });
        } else if (!req.contentType || !accepted.includes(req.contentType)) {
          errors.push({
            field: 'content-type',
            location: 'header',
            message: `must be one of: ${accepted.join(', ')}`,
          });
        } else {
          const validate = bodyValidators.get(req.contentType);
          if (validate && !validate(req.body)) errors.push(...toFieldErrors(validate.errors, 'body'));
        }
      }
      return errors;
    });
  }
  return result;
}

/** Registers the document's component schemas on `ajv`, so compiled schemas may reference them. */
export function withComponents(ajv: Ajv2020, doc: JsonObject): Ajv2020 {
  const schemas = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {};
  for (const [name, schema] of Object.entries(schemas)) {
    ajv.addSchema(rewriteRefs(schema) as object, SCHEMA_ID + name);
  }
  return ajv;
}

// Component schemas are registered under their own ids, so `#/components/schemas/X` becomes that id.
export function rewriteRefs(node: Json): Json {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] =
      k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
        ? SCHEMA_ID + v.slice('#/components/schemas/'.length)
        : rewriteRefs(v);
  }
  return out;
}

/** A validator for one of the spec's component schemas (replies are checked against it in tests). */
export function compileComponentSchema(doc: JsonObject, name: string): ValidateFunction {
  const ajv = withComponents(createAjv(), doc);
  const validate = ajv.getSchema(SCHEMA_ID + name);
  if (!validate) throw new Error(`no component schema ${name}`);
  return validate;
}
