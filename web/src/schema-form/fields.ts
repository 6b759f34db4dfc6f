import { validate, type JsonSchema } from './validate';

export type FieldKind = 'select' | 'number' | 'integer' | 'boolean' | 'text';

export interface FieldSpec {
  name: string;
  label: string;
  kind: FieldKind;
  description?: string;
  required: boolean;
  /** Hidden by the schema's active conditions (e.g. crop's left/top unless strategy is region). */
  hidden: boolean;
  options?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  maxLength?: number;
  pattern?: string;
  placeholder?: string;
}

/** Raw form values: strings for text, number and select inputs, booleans for checkboxes. */
export type RawValues = Record<string, string | boolean | undefined>;

const humanize = (name: string) => name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

/** Numeric bounds of a property, including those of an anyOf (e.g. "0, or 8000 to 192000"). */
function bounds(s: JsonSchema): Pick<FieldSpec, 'minimum' | 'maximum' | 'exclusiveMinimum' | 'exclusiveMaximum'> {
  return { minimum: s.minimum, maximum: s.maximum, exclusiveMinimum: s.exclusiveMinimum, exclusiveMaximum: s.exclusiveMaximum };
}

function kindOf(s: JsonSchema): FieldKind {
  if (s.enum) return 'select';
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  if (type === 'boolean') return 'boolean';
  if (type === 'integer') return 'integer';
  if (type === 'number') return 'number';
  return 'text';
}

/** The then/else branches that apply to `params` now, from the root and its allOf. */
function activeBranches(schema: JsonSchema, params: Record<string, unknown>): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const s of [schema, ...(schema.allOf ?? [])]) {
    if (!s.if) continue;
    const branch = validate(s.if, params).length === 0 ? s.then : s.else;
    if (branch) out.push(branch, ...activeBranches(branch, params));
  }
  return out;
}

function forbidden(branch: JsonSchema): string[] {
  const not = branch.not;
  if (!not) return [];
  const alternatives = not.anyOf ?? [not];
  return alternatives.flatMap((a) => (Object.keys(a).length === 1 && a.required ? a.required : []));
}

/** The form's fields for the current values: conditions decide what is shown, required and offered. */
export function describeFields(schema: JsonSchema, raw: RawValues): FieldSpec[] {
  const props = schema.properties ?? {};
  const params = toParameters(schema, raw, { includeHidden: true });
  const branches = activeBranches(schema, params);
  const required = new Set([...(schema.required ?? []), ...branches.flatMap((b) => b.required ?? [])]);
  const hidden = new Set(branches.flatMap(forbidden));
  return Object.entries(props).map(([name, s]) => {
    let options = s.enum;
    for (const b of branches) {
      const restricted = b.properties?.[name]?.enum;
      if (restricted) options = (options ?? restricted).filter((o) => restricted.some((r) => JSON.stringify(r) === JSON.stringify(o)));
    }
    const anyBounds = s.anyOf?.find((a) => a.minimum !== undefined || a.maximum !== undefined);
    const example = s.examples?.[0];
    return {
      name,
      label: s.title ?? humanize(name),
      kind: options ? 'select' : kindOf(s),
      description: s.description,
      required: required.has(name),
      hidden: hidden.has(name),
      options,
      default: s.default,
      ...bounds(anyBounds && s.minimum === undefined ? { ...anyBounds } : s),
      maxLength: s.maxLength,
      pattern: s.pattern,
      placeholder: example !== undefined ? `e.g. ${String(example)}` : undefined,
    };
  });
}

/** The form's first values: every default filled in, so people see what they would get. */
export function initialValues(schema: JsonSchema): RawValues {
  const out: RawValues = {};
  for (const [name, s] of Object.entries(schema.properties ?? {})) {
    if (kindOf(s) === 'boolean') out[name] = s.default === true;
    else out[name] = s.default === undefined ? '' : String(s.default);
  }
  return out;
}

/**
 * The action's parameters from the raw values: empty inputs and fields hidden by a condition are
 * left out (the action's default applies), numbers parsed, enum options mapped back to their type.
 */
export function toParameters(schema: JsonSchema, raw: RawValues, opts: { includeHidden?: boolean } = {}): Record<string, unknown> {
  const props = schema.properties ?? {};
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(props)) {
    const v = raw[name];
    if (v === undefined || v === '') continue;
    if (typeof v === 'boolean') {
      out[name] = v;
      continue;
    }
    if (s.enum) {
      out[name] = s.enum.find((e) => String(e) === v) ?? v;
      continue;
    }
    const kind = kindOf(s);
    if (kind === 'number' || kind === 'integer') {
      const n = Number(v.trim());
      out[name] = v.trim() !== '' && Number.isFinite(n) ? n : v;
    } else {
      out[name] = v;
    }
  }
  if (opts.includeHidden) return out;
  const hidden = new Set(activeBranches(schema, out).flatMap(forbidden));
  for (const name of hidden) delete out[name];
  return out;
}

/** Errors by field name ('' for the whole form), worded for people. */
export function formErrors(schema: JsonSchema, params: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of validate(schema, params)) {
    const key = e.path.split('.')[0] ?? '';
    out[key] ??= e.message;
  }
  return out;
}
