// The contract every action plugin keeps, checked over the whole registry as the worker discovers it:
// a new plugin is held to it without writing a line of test. Its own behaviour is its own test's job.
import { loadSpec, type JsonObject } from '#api/openapi/document.js';
import { PROVIDER_NAMES } from '#lib/ai/ports.js';
import { createAjv } from '#lib/ajv.js';
import { loadActionRegistry } from './registry.js';
import type { ActionDefinition, JsonSchema } from './types.js';

type Prop = Record<string, any>;

const FORM_TYPES = new Set(['string', 'integer', 'number', 'boolean', 'array']);
const RANGE_PAIRS = [
  ['minimum', 'maximum'],
  ['exclusiveMinimum', 'exclusiveMaximum'],
  ['minLength', 'maxLength'],
  ['minItems', 'maxItems'],
] as const;

// The codes a client may read in a failed job's `error.code` or in an error reply.
function specErrorCodes(): Set<string> {
  const schemas = (loadSpec().components as JsonObject).schemas as Record<string, Prop>;
  const replyCodes: string[] = schemas.Error!.properties.error.properties.code.enum;
  const jobCodes: string[] = schemas.JobError!.properties.code.enum;
  return new Set([...replyCodes, ...jobCodes]);
}

/** What makes one property unfit for a generated form; empty when it is fine. */
function propertyProblems(name: string, prop: Prop): string[] {
  const problems: string[] = [];
  const type = prop.type;
  if (typeof type !== 'string' || !FORM_TYPES.has(type)) problems.push(`${name}: type ${JSON.stringify(type)} is not one a form renders`);
  if (typeof prop.description !== 'string' || !prop.description.trim()) problems.push(`${name}: no description`);
  if ('enum' in prop) {
    const values = prop.enum as unknown[];
    if (!Array.isArray(values) || values.length === 0) problems.push(`${name}: empty enum`);
    else {
      if (new Set(values).size !== values.length) problems.push(`${name}: repeated enum values`);
      const kind = type === 'integer' ? 'number' : type;
      for (const v of values) if (typeof v !== kind || (type === 'integer' && !Number.isInteger(v))) problems.push(`${name}: enum value ${JSON.stringify(v)} is not a ${type}`);
    }
  }
  for (const [lo, hi] of RANGE_PAIRS) {
    if (lo in prop && hi in prop && !(prop[lo] <= prop[hi])) problems.push(`${name}: ${lo} ${prop[lo]} above ${hi} ${prop[hi]}`);
  }
  if (('minimum' in prop || 'maximum' in prop) && type !== 'integer' && type !== 'number') problems.push(`${name}: a range on a ${type}`);
  if (type === 'array') {
    const items = prop.items as Prop | undefined;
    if (!items || (typeof items.type !== 'string' && !Array.isArray(items.enum))) problems.push(`${name}: array items are untyped`);
  }
  return problems;
}

const registry = await loadActionRegistry();
const actions = registry.list();
const codes = specErrorCodes();
const cases = actions.map((a) => [a.actionId, a] as [string, ActionDefinition]);

test('the registry discovers every plugin once, each under its own media type', () => {
  expect(actions.length).toBeGreaterThanOrEqual(14);
  expect(new Set(actions.map((a) => a.actionId)).size).toBe(actions.length);
  for (const a of actions) expect(a.actionId).toMatch(a.mediaType === 'image' ? /^img_[a-z_]+$/ : /^aud_[a-z_]+$/);
});

describe.each(cases)('%s', (_id, action) => {
  const schema = action.parametersSchema as { type?: string; properties?: Record<string, Prop>; required?: string[]; additionalProperties?: unknown };

  test('describes itself for a catalogue', () => {
    for (const key of ['displayName', 'buttonLabel', 'description', 'icon'] as const) expect({ key, value: action[key].trim() }).toEqual({ key, value: expect.stringMatching(/./) });
  });

  test('its parameters schema renders as a form', () => {
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    const properties = schema.properties ?? {};
    const problems = Object.entries(properties).flatMap(([name, prop]) => propertyProblems(name, prop));
    for (const name of schema.required ?? []) if (!(name in properties)) problems.push(`${name}: required but not a property`);
    expect(problems).toEqual([]);
  });

  test('its defaults and examples are valid, and the validator fills in every default', () => {
    const ajv = createAjv();
    const properties = schema.properties ?? {};
    const problems: string[] = [];
    for (const [name, prop] of Object.entries(properties)) {
      if ('default' in prop && !ajv.validate(prop as JsonSchema, prop.default)) problems.push(`${name}: default ${JSON.stringify(prop.default)} ${ajv.errorsText()}`);
      for (const example of (prop.examples as unknown[] | undefined) ?? []) {
        if (!ajv.validate(prop as JsonSchema, example)) problems.push(`${name}: example ${JSON.stringify(example)} ${ajv.errorsText()}`);
      }
    }
    expect(problems).toEqual([]);
    // An empty form gets every default filled in by the validator, and no default is refused.
    const form: Record<string, unknown> = {};
    const refused = registry.validateParameters(action, form).filter((e) => {
      const name = e.field.split('.')[1];
      return name !== undefined && 'default' in (properties[name] ?? {});
    });
    expect(refused).toEqual([]);
    const defaults = Object.fromEntries(Object.entries(properties).filter(([, p]) => 'default' in p).map(([name, p]) => [name, p.default]));
    expect(form).toEqual(defaults);
  });

  test('declares an output schema that compiles', () => {
    const output = action.outputSchema as { type?: string };
    expect(output.type).toBe('object');
    expect(() => createAjv().compile(action.outputSchema)).not.toThrow();
    expect(['file', 'json', 'files']).toContain(action.resultType);
  });

  test('its non-retryable codes are error codes the spec documents', () => {
    expect(action.nonRetryableErrors.filter((code) => !codes.has(code))).toEqual([]);
  });

  test('its AI defaults, if any, name a provider', () => {
    if (action.ai) expect(PROVIDER_NAMES).toContain(action.ai.provider);
  });

  test('its timeouts and retry policy are usable', () => {
    const { startToCloseMs, heartbeatMs } = action.timeouts;
    expect(heartbeatMs).toBeGreaterThan(0);
    expect(heartbeatMs).toBeLessThan(startToCloseMs);
    expect(action.retry.maximumAttempts).toBeGreaterThanOrEqual(1);
    expect(action.retry.initialIntervalMs).toBeGreaterThan(0);
    expect(action.retry.backoffCoefficient).toBeGreaterThanOrEqual(1);
    expect(action.retry.maximumIntervalMs).toBeGreaterThanOrEqual(action.retry.initialIntervalMs);
  });
});
