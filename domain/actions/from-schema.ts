// The TypeScript type of what an action's parameters schema accepts, derived from the schema itself
// (declared `as const`), so no interface is kept by hand beside it. It covers the JSON Schema the
// plugins use: type (string, number, integer, boolean, null, array, object, or a list of them),
// enum, const, properties, required, items and default. Keywords that only narrow the values
// (minimum, pattern, maxLength, anyOf, oneOf, if/then/else, ...) leave the type as it is; the
// validator enforces them. A property with a default is always present: actions get parameters
// validated with ajv's useDefaults, which fills it in.

export type JsonTypeName = 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'array' | 'object';

/** One schema, as far as the derived type reads it; any other keyword is allowed. */
export interface SchemaNode {
  readonly type?: JsonTypeName | readonly JsonTypeName[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly default?: unknown;
  readonly properties?: { readonly [name: string]: SchemaNode };
  readonly required?: readonly string[];
  readonly items?: SchemaNode;
  readonly [keyword: string]: unknown;
}

/** An action's parameters schema: an object with its properties. */
export interface ParametersSchema extends SchemaNode {
  readonly type: 'object';
  readonly properties: { readonly [name: string]: SchemaNode };
}

/** The values `S` accepts. */
export type FromSchema<S> = S extends { readonly const: infer C }
  ? C
  : S extends { readonly enum: readonly (infer E)[] }
    ? E
    : S extends { readonly type: infer T }
      ? T extends readonly (infer Each)[]
        ? OfType<S, Each>
        : OfType<S, T>
      : unknown;

type OfType<S, T> = T extends 'string'
  ? string
  : T extends 'number' | 'integer'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : T extends 'array'
          ? S extends { readonly items: infer I }
            ? FromSchema<I>[]
            : unknown[]
          : T extends 'object'
            ? ObjectOf<S>
            : unknown;

type ObjectOf<S> = S extends { readonly properties: infer P }
  ? Flatten<
      { -readonly [K in keyof P as K extends Present<S, P> ? K : never]: FromSchema<P[K]> } & {
        -readonly [K in keyof P as K extends Present<S, P> ? never : K]?: FromSchema<P[K]>;
      }
    >
  : Record<string, unknown>;

/** The properties a valid value always has: the required ones and those with a default. */
type Present<S, P> = (S extends { readonly required: readonly (infer R)[] } ? R : never) | Defaulted<P>;
type Defaulted<P> = { [K in keyof P]: P[K] extends { readonly default: unknown } ? K : never }[keyof P];

type Flatten<T> = { [K in keyof T]: T[K] } & {};
