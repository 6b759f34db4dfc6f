import { Ajv2020, type ErrorObject, type Options } from 'ajv/dist/2020.js';
import * as formatsModule from 'ajv-formats';

// ajv-formats is CommonJS: under Node ESM its default export is the module object itself.
const addFormats = ((formatsModule as { default?: unknown }).default ?? formatsModule) as (ajv: Ajv2020) => Ajv2020;

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect), with formats and OpenAPI's annotation keywords. */
export function createAjv(options: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, strictTypes: false, ...options });
  addFormats(ajv);
  ajv.addFormat('binary', true);
  ajv.addVocabulary(['example', 'xml', 'externalDocs', 'discriminator', 'x-ui']);
  return ajv;
}

export interface FieldError {
  field: string;
  location: 'path' | 'query' | 'header' | 'body';
  message: string;
}

/** Turns ajv errors into the `details.fields` entries of the Error schema. */
export function toFieldErrors(errors: ErrorObject[] | null | undefined, location: FieldError['location'], prefix = ''): FieldError[] {
  return (errors ?? []).map((e) => {
    const segments = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (e.keyword === 'required') segments.push(String(e.params.missingProperty));
    if (e.keyword === 'additionalProperties') segments.push(String(e.params.additionalProperty));
    const field = [prefix, ...segments].filter(Boolean).join('.') || location;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'enum') message += `: ${(e.params.allowedValues as unknown[]).map(String).join(', ')}`;
    if (e.keyword === 'additionalProperties') message = 'is not allowed';
    return { field, location, message };
  });
}
