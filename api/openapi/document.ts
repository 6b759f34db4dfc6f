import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { findUp } from '#lib/paths.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const specPath = (): string => findUp(join('openapi', 'openapi.yaml'), import.meta.url);

export function loadSpec(path = specPath()): JsonObject {
  return parse(readFileSync(path, 'utf8')) as JsonObject;
}

/** Resolves a local `#/a/b` reference inside the document. */
export function resolveRef<T = Json>(doc: JsonObject, node: Json): T {
  let current: Json = node;
  for (let depth = 0; isObject(current) && typeof current.$ref === 'string'; depth++) {
    if (depth > 20) throw new Error('reference cycle at ' + current.$ref);
    const ref: string = current.$ref;
    if (!ref.startsWith('#/')) throw new Error(`only local references are supported: ${ref}`);
    current = ref
      .slice(2)
      .split('/')
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<Json>((acc, key) => {
        if (!isObject(acc) || !(key in acc)) throw new Error(`unresolvable reference ${ref}`);
        return acc[key] as Json;
      }, doc);
  }
  return current as T;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
