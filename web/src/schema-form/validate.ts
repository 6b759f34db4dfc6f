// A JSON Schema (2020-12 subset the action plugins use) validator that words its errors for people.
// The API validates the same parameters with ajv; this one runs in the browser without eval (CSP)
// and also tells the form which conditional (if/then/else) branches are active.

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  examples?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  not?: JsonSchema;
  if?: JsonSchema;
  then?: JsonSchema;
  else?: JsonSchema;
}

export interface SchemaError {
  /** Dotted path from the root ('' for the object itself). */
  path: string;
  message: string;
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
const show = (v: unknown) => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));
const list = (xs: string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs.at(-1)}`);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function matchesType(v: unknown, type: string): boolean {
  const t = typeOf(v);
  return t === type || (type === 'number' && t === 'integer');
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'a whole number',
  number: 'a number',
  string: 'text',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'empty',
};

const equal = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Alternatives that only name required properties ("give width or height") read better as such. */
const requiredOnly = (branches: JsonSchema[]) =>
  branches.every((b) => Object.keys(b).length === 1 && Array.isArray(b.required)) ? branches.map((b) => b.required!.join(' and ')) : undefined;

export function validate(schema: JsonSchema, value: unknown, path = ''): SchemaError[] {
  const errors: SchemaError[] = [];
  const err = (message: string, at = path) => errors.push({ path: at, message });

  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => matchesType(value, t))) {
      err(`must be ${list(types.map((t) => TYPE_WORDS[t] ?? t))}`);
      return errors;
    }
  }
  if (schema.const !== undefined && !equal(value, schema.const)) err(`must be ${show(schema.const)}`);
  if (schema.enum && !schema.enum.some((e) => equal(e, value))) err(`must be one of ${schema.enum.map(show).join(', ')}`);

  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) err(`must be at least ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) err(`must be at most ${schema.maximum}`);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) err(`must be more than ${schema.exclusiveMinimum}`);
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) err(`must be less than ${schema.exclusiveMaximum}`);
    if (schema.multipleOf !== undefined && Math.abs(value / schema.multipleOf - Math.round(value / schema.multipleOf)) > 1e-9) {
      err(`must be a multiple of ${schema.multipleOf}`);
    }
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) {
      err(schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters`);
    }
    if (schema.maxLength !== undefined && length > schema.maxLength) err(`must be at most ${schema.maxLength} characters`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) err(`must match the pattern ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) err(`must have at least ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) err(`must have at most ${schema.maxItems} items`);
    if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) err('must not repeat items');
    if (schema.items) value.forEach((v, i) => errors.push(...validate(schema.items!, v, join(path, String(i)))));
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (obj[key] === undefined) err('is required', join(path, key));
    for (const [key, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      const sub = schema.properties?.[key];
      if (sub) errors.push(...validate(sub, v, join(path, key)));
      else if (schema.additionalProperties === false) err('is not a parameter of this action', join(path, key));
      else if (typeof schema.additionalProperties === 'object') errors.push(...validate(schema.additionalProperties, v, join(path, key)));
    }
  }

  for (const sub of schema.allOf ?? []) errors.push(...validate(sub, value, path));
  if (schema.anyOf) {
    const results = schema.anyOf.map((s) => validate(s, value, path));
    if (!results.some((r) => r.length === 0)) {
      const names = requiredOnly(schema.anyOf);
      err(names ? `give ${list(names)}` : `must satisfy one of: ${results.map((r) => r[0]?.message).join('; or ')}`);
    }
  }
  if (schema.oneOf) {
    const valid = schema.oneOf.filter((s) => validate(s, value, path).length === 0).length;
    const names = requiredOnly(schema.oneOf);
    if (valid === 0) err(names ? `give ${list(names)}` : 'must satisfy exactly one of the alternatives');
    if (valid > 1) err(names ? `give only one of ${names.join(', ')}` : 'must satisfy only one of the alternatives');
  }
  if (schema.not && validate(schema.not, value, path).length === 0) {
    const names = schema.not.anyOf ? requiredOnly(schema.not.anyOf) : schema.not.required ? [schema.not.required.join(' and ')] : undefined;
    err(names ? `must not give ${list(names)} here` : 'is not allowed here');
  }
  if (schema.if) {
    const branch = validate(schema.if, value, path).length === 0 ? schema.then : schema.else;
    if (branch) errors.push(...validate(branch, value, path));
  }
  return errors;
}
