// The form generator over every action the platform registers: its fields, its conditions, and
// its validation agreeing with the API's own (ajv, through the action registry).
import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadActionRegistry, type ActionRegistry } from '../../../domain/actions/registry';
import { describeFields, initialValues, toParameters, type RawValues } from './fields';
import { SchemaForm } from './SchemaForm';
import { validate, type JsonSchema } from './validate';

let registry: ActionRegistry;
beforeAll(async () => {
  registry = await loadActionRegistry();
});

const schemaOf = (id: string) => registry.get(id)!.parametersSchema as JsonSchema;
const apiAccepts = (id: string, params: Record<string, unknown>) => registry.validateParameters(registry.get(id)!, structuredClone(params)).length === 0;

/** The first values a person would submit: defaults, plus an example for each required field without one. */
function filled(schema: JsonSchema): RawValues {
  const raw = initialValues(schema);
  // Required now (conditions included), or the first of the alternatives an anyOf/oneOf asks for.
  const required = new Set([
    ...describeFields(schema, raw).filter((f) => f.required && !f.hidden).map((f) => f.name),
    ...((schema.anyOf ?? schema.oneOf)?.[0]?.required ?? []),
  ]);
  for (const [name, s] of Object.entries(schema.properties ?? {})) {
    if (raw[name] === '' && required.has(name)) raw[name] = String(s.examples?.[0] ?? s.enum?.[0] ?? s.minimum ?? 1);
  }
  return raw;
}

test('the registry has every action, and each one renders a labelled control per parameter', () => {
  const actions = registry.list();
  expect(actions.length).toBeGreaterThanOrEqual(14);
  for (const a of actions) {
    const schema = a.parametersSchema as JsonSchema;
    const html = renderToStaticMarkup(<SchemaForm schema={schema} idPrefix="t" />);
    for (const [name, s] of Object.entries(schema.properties ?? {})) {
      const hidden = describeFields(schema, initialValues(schema)).find((f) => f.name === name)!.hidden;
      if (hidden) continue;
      expect(html, `${a.actionId}.${name} has a label`).toContain(`for="t-${name}"`);
      const tag = new RegExp(`<(select|input|textarea)[^>]*id="t-${name}"[^>]*>`).exec(html)?.[0];
      expect(tag, `${a.actionId}.${name} has a control`).toBeDefined();
      if (s.enum) expect(tag!.startsWith('<select'), `${a.actionId}.${name} is a select`).toBe(true);
      else if (s.type === 'boolean') expect(tag).toContain('type="checkbox"');
      else if (s.type === 'integer' || s.type === 'number') {
        expect(tag).toContain('type="number"');
        if (s.minimum !== undefined) expect(tag).toContain(`min="${s.minimum}"`);
        if (s.maximum !== undefined) expect(tag).toContain(`max="${s.maximum}"`);
      }
      if (s.default !== undefined && typeof s.default !== 'boolean' && s.default !== '') expect(html).toContain(`Default: ${String(s.default)}`);
    }
  }
});

test('every action form submits, untouched, parameters the API accepts', () => {
  for (const a of registry.list()) {
    const schema = a.parametersSchema as JsonSchema;
    const params = toParameters(schema, filled(schema));
    expect(validate(schema, params), a.actionId).toEqual([]);
    expect(apiAccepts(a.actionId, params), `${a.actionId} ${JSON.stringify(params)}`).toBe(true);
  }
});

test('the form and the API agree on what is valid, value by value', () => {
  let compared = 0;
  for (const a of registry.list()) {
    const schema = a.parametersSchema as JsonSchema;
    const base = toParameters(schema, filled(schema));
    for (const [name, s] of Object.entries(schema.properties ?? {})) {
      const candidates: unknown[] = ['not-a-value', 0, -1, 1.5, 10_000_000, '', true];
      if (s.minimum !== undefined) candidates.push(s.minimum, s.minimum - 1);
      if (s.maximum !== undefined) candidates.push(s.maximum, s.maximum + 1);
      if (s.exclusiveMinimum !== undefined) candidates.push(s.exclusiveMinimum, s.exclusiveMinimum + 0.5);
      if (s.enum) candidates.push(...s.enum);
      if (s.maxLength !== undefined) candidates.push('x'.repeat(s.maxLength), 'x'.repeat(s.maxLength + 1));
      for (const v of candidates) {
        const params = { ...base, [name]: v };
        const ours = validate(schema, params).length === 0;
        expect(ours, `${a.actionId}.${name} = ${JSON.stringify(v)}`).toBe(apiAccepts(a.actionId, params));
        compared++;
      }
    }
    // Unknown parameters are refused by both.
    expect(validate(schema, { ...base, bogus: 1 }).length > 0).toBe(!apiAccepts(a.actionId, { ...base, bogus: 1 }));
  }
  expect(compared).toBeGreaterThan(300);
});

describe('conditions from if/then/else', () => {
  test('crop: left and top show for the region strategy only, and are not sent otherwise', () => {
    const schema = schemaOf('img_crop');
    const raw = initialValues(schema);
    const visible = (r: RawValues) => describeFields(schema, r).filter((f) => !f.hidden).map((f) => f.name);
    expect(visible(raw)).toEqual(expect.arrayContaining(['left', 'top']));
    expect(describeFields(schema, raw).find((f) => f.name === 'left')!.required).toBe(true);
    const attention = { ...filled(schema), strategy: 'attention' };
    expect(visible(attention)).not.toContain('left');
    expect(visible(attention)).not.toContain('top');
    const params = toParameters(schema, attention);
    expect(params).not.toHaveProperty('left');
    expect(apiAccepts('img_crop', params)).toBe(true);
  });

  test('image format conversion: lossless narrows the formats to WebP and AVIF, with the schema saying why', () => {
    const schema = schemaOf('img_format_convert');
    const raw = { ...initialValues(schema), format: 'jpeg', lossless: true };
    expect(describeFields(schema, raw).find((f) => f.name === 'format')!.options).toEqual(['webp', 'avif']);
    const errors = validate(schema, toParameters(schema, raw));
    expect(errors).toEqual([{ path: 'format', message: 'must be one of "webp", "avif"' }]);
  });

  test('audio format conversion: Opus outputs offer only the sample rates Opus encodes', () => {
    const schema = schemaOf('aud_format_convert');
    const options = describeFields(schema, { ...initialValues(schema), format: 'opus' }).find((f) => f.name === 'sample_rate')!.options as number[];
    expect(options).toContain(48000);
    expect(options).not.toContain(44100);
    expect(describeFields(schema, { ...initialValues(schema), format: 'mp3' }).find((f) => f.name === 'sample_rate')!.options).toBeUndefined();
  });

  test('alternatives are worded as what to give', () => {
    expect(validate(schemaOf('img_resize'), {})).toEqual([{ path: '', message: 'give width or height' }]);
    expect(validate(schemaOf('aud_trim'), { start: 0, end: 2, duration: 1 })).toContainEqual({ path: '', message: 'give only one of end, duration' });
    expect(validate(schemaOf('img_resize'), { width: 0 })).toContainEqual({ path: 'width', message: 'must be at least 1' });
  });
});
