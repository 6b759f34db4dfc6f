import { useImperativeHandle, useMemo, type Ref } from 'react';
import { useForm, type Resolver } from 'react-hook-form';
import { describeFields, formErrors, initialValues, toParameters, type FieldSpec, type RawValues } from './fields';
import type { JsonSchema } from './validate';

export interface SchemaFormHandle {
  /** Validates; the action's parameters when valid, else undefined (the errors are shown). */
  submit(): Promise<Record<string, unknown> | undefined>;
}

/** react-hook-form resolver from the action's JSON Schema, with the schema's own words as messages. */
export function schemaResolver(schema: JsonSchema): Resolver<RawValues> {
  return async (raw) => {
    const params = toParameters(schema, raw);
    const errors = formErrors(schema, params);
    if (!Object.keys(errors).length) return { values: raw, errors: {} };
    const out: Record<string, { type: string; message: string }> = {};
    for (const [key, message] of Object.entries(errors)) out[key || '_form'] = { type: 'schema', message };
    return { values: {}, errors: out as never };
  };
}

const describeDefault = (f: FieldSpec) =>
  f.default === undefined || f.default === '' ? undefined : `Default: ${typeof f.default === 'boolean' ? (f.default ? 'on' : 'off') : String(f.default)}`;

function range(f: FieldSpec): string | undefined {
  const lo = f.minimum ?? (f.exclusiveMinimum !== undefined ? `more than ${f.exclusiveMinimum}` : undefined);
  const hi = f.maximum ?? (f.exclusiveMaximum !== undefined ? `less than ${f.exclusiveMaximum}` : undefined);
  if (lo !== undefined && hi !== undefined) return `${lo} to ${hi}`;
  if (lo !== undefined) return `at least ${lo}`;
  if (hi !== undefined) return `at most ${hi}`;
  return undefined;
}

/** A form generated from an action's `parameters_schema`. */
export function SchemaForm({ schema, idPrefix, ref }: { schema: JsonSchema; idPrefix: string; ref?: Ref<SchemaFormHandle> }) {
  const defaults = useMemo(() => initialValues(schema), [schema]);
  const resolver = useMemo(() => schemaResolver(schema), [schema]);
  const form = useForm<RawValues>({ defaultValues: defaults, resolver, mode: 'onTouched' });
  const values = form.watch();
  const fields = describeFields(schema, values).filter((f) => !f.hidden);
  const errors = form.formState.errors as Record<string, { message?: string } | undefined>;

  useImperativeHandle(ref, () => ({
    async submit() {
      const ok = await form.trigger();
      return ok ? toParameters(schema, form.getValues()) : undefined;
    },
  }));

  if (!Object.keys(schema.properties ?? {}).length) {
    return <p className="text-sm text-slate-500">This action has no parameters.</p>;
  }
  return (
    <div className="grid gap-4 sm:grid-cols-2" data-testid="schema-form">
      {errors._form?.message && (
        <p role="alert" className="field-error sm:col-span-2 text-sm">
          {capitalize(errors._form.message)}
        </p>
      )}
      {fields.map((f) => {
        const id = `${idPrefix}-${f.name}`;
        const error = errors[f.name]?.message;
        const hint = [f.description, range(f) && `Range ${range(f)}.`, describeDefault(f)].filter(Boolean).join(' ');
        const describedBy = `${id}-hint${error ? ` ${id}-error` : ''}`;
        const common = { id, 'aria-invalid': error ? true : undefined, 'aria-describedby': describedBy } as const;
        return (
          <div key={f.name} className={f.kind === 'text' && (f.maxLength ?? 0) > 200 ? 'sm:col-span-2' : ''}>
            {f.kind === 'boolean' ? (
              <label htmlFor={id} className="flex items-center gap-2 text-sm font-medium text-slate-700">
                <input type="checkbox" className="h-4 w-4 rounded border-slate-300" {...common} {...form.register(f.name)} />
                {f.label}
              </label>
            ) : (
              <label htmlFor={id} className="label">
                {f.label}
                {f.required && <span className="text-red-600" aria-hidden> *</span>}
              </label>
            )}
            {f.kind === 'select' && (
              <select className="input mt-1" {...common} aria-required={f.required} {...form.register(f.name)}>
                {(f.default === undefined || !f.required) && <option value="">{f.required ? 'Choose…' : '(default)'}</option>}
                {f.options!.map((o) => (
                  <option key={String(o)} value={String(o)}>
                    {String(o)}
                  </option>
                ))}
              </select>
            )}
            {(f.kind === 'number' || f.kind === 'integer') && (
              <input
                type="number"
                inputMode={f.kind === 'integer' ? 'numeric' : 'decimal'}
                step={f.kind === 'integer' ? 1 : 'any'}
                min={f.minimum}
                max={f.maximum}
                placeholder={f.placeholder}
                className="input mt-1"
                aria-required={f.required}
                {...common}
                {...form.register(f.name)}
              />
            )}
            {f.kind === 'text' &&
              ((f.maxLength ?? 0) > 200 ? (
                <textarea rows={3} maxLength={f.maxLength} placeholder={f.placeholder} className="input mt-1" {...common} {...form.register(f.name)} />
              ) : (
                <input type="text" maxLength={f.maxLength} placeholder={f.placeholder} className="input mt-1" aria-required={f.required} {...common} {...form.register(f.name)} />
              ))}
            <p id={`${id}-hint`} className="hint">
              {hint}
            </p>
            {error && (
              <p id={`${id}-error`} role="alert" className="field-error">
                {capitalize(`${f.label} ${error}`)}
              </p>
            )}
          </div>
        );
      })}
    </div>
  );
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
