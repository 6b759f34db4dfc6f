// Replies checked against the spec's component schemas: the spec tells the truth.
import { loadSpec } from '#api/openapi/document.js';
import { compileComponentSchema } from '#api/openapi/validators.js';

const doc = loadSpec();

/** Fails the test with ajv's errors when `value` does not match the component schema `name`. */
export function expectSchema(name: string, value: unknown): void {
  const validate = compileComponentSchema(doc, name);
  expect(validate(value) ? [] : validate.errors).toEqual([]);
}
