import { useQuery } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { toast } from 'sonner';
import { api } from '../api/client';
import { unwrap } from '../api/errors';
import type { ActionSummary, MediaType, Schemas } from '../api/types';
import { ErrorBox, PageHeader, Skeleton, toastError } from '../components/ui';
import { SchemaForm, type SchemaFormHandle } from '../schema-form/SchemaForm';
import type { JsonSchema } from '../schema-form/validate';

interface Step {
  key: number;
  actionId: string;
}

export function useActions() {
  return useQuery({ queryKey: ['actions'], queryFn: () => unwrap(api.GET('/api/v1/actions')), staleTime: 5 * 60_000 });
}

function ActionParameters({ mediaType, actionId, idPrefix, formRef }: { mediaType: MediaType; actionId: string; idPrefix: string; formRef: (h: SchemaFormHandle | null) => void }) {
  const detail = useQuery({
    queryKey: ['action', mediaType, actionId],
    queryFn: () => unwrap(api.GET('/api/v1/actions/{mediaType}/{actionId}', { params: { path: { mediaType, actionId } } })),
    staleTime: 5 * 60_000,
  });
  if (detail.isLoading) return <Skeleton className="h-24 w-full" />;
  if (detail.error || !detail.data) return <ErrorBox error={detail.error} title="Could not load the action's parameters" />;
  return (
    <>
      <p className="mb-3 text-sm text-slate-600">{detail.data.description}</p>
      <SchemaForm key={actionId} schema={detail.data.parameters_schema as JsonSchema} idPrefix={idPrefix} ref={formRef} />
    </>
  );
}

export function RunPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [mediaId, setMediaId] = useState(params.get('media') ?? '');
  const [pipeline, setPipeline] = useState(false);
  const [steps, setSteps] = useState<Step[]>([{ key: 0, actionId: '' }]);
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<unknown>();
  const nextKey = useRef(1);
  const forms = useRef(new Map<number, SchemaFormHandle>());

  const media = useQuery({
    queryKey: ['media', 'picker'],
    queryFn: () => unwrap(api.GET('/api/v1/media', { params: { query: { status: 'ready', limit: 100 } } })),
  });
  const actions = useActions();
  const selected = media.data?.data.find((m) => m.id === mediaId);
  const all = actions.data?.actions ?? [];
  const shown = pipeline ? steps : steps.slice(0, 1);

  const setAction = (key: number, actionId: string) => setSteps((ss) => ss.map((s) => (s.key === key ? { ...s, actionId } : s)));
  const typeOf = (id: string): MediaType | undefined => all.find((a) => a.action_id === id)?.media_type;

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(undefined);
    if (!selected) return toast.error('Pick a file first');
    if (shown.some((s) => !s.actionId)) return toast.error('Pick an action for every step');
    const values: Record<string, unknown>[] = [];
    for (const s of shown) {
      const handle = forms.current.get(s.key);
      const v = handle ? await handle.submit() : {};
      if (!v) return toast.error('Some parameters need fixing');
      values.push(v);
    }
    setSubmitting(true);
    try {
      const body =
        shown.length === 1 && !pipeline
          ? { media_id: selected.id, action_id: shown[0]!.actionId, parameters: values[0]! }
          : // `parameters` belongs to single-action jobs only (the generated type marks it required for its default).
            ({ media_id: selected.id, steps: shown.map((s, i) => ({ action_id: s.actionId, parameters: values[i]! })) } as Schemas['ProcessRequest']);
      const job = await unwrap(api.POST('/api/v1/process', { body, headers: { 'Idempotency-Key': crypto.randomUUID() } }));
      toast.success('Job submitted');
      navigate(`/jobs/${job.id}`);
    } catch (err) {
      setError(err);
      toastError(err, 'The job was not accepted');
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <>
      <PageHeader title="Run an action" />
      <form onSubmit={submit} className="space-y-6" noValidate>
        <section className="card space-y-3" aria-labelledby="pick-file">
          <h2 id="pick-file" className="h2">
            1. Pick a file
          </h2>
          {media.isLoading ? (
            <Skeleton className="h-10 w-full" />
          ) : media.error ? (
            <ErrorBox error={media.error} />
          ) : (
            <div>
              <label htmlFor="run-media" className="label">
                File
              </label>
              <select
                id="run-media"
                className="input mt-1"
                value={mediaId}
                onChange={(e) => {
                  setMediaId(e.target.value);
                  setSteps([{ key: nextKey.current++, actionId: '' }]);
                }}
              >
                <option value="">Choose a file…</option>
                {media.data?.data.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.original_filename} ({m.media_type})
                  </option>
                ))}
              </select>
              {!media.data?.data.length && <p className="hint">Upload a file in the media library first.</p>}
            </div>
          )}
        </section>

        <section className="card space-y-4" aria-labelledby="pick-action">
          <div className="flex flex-wrap items-center justify-between gap-2">
            <h2 id="pick-action" className="h2">
              2. {pipeline ? 'Build a pipeline' : 'Pick an action'}
            </h2>
            <div role="radiogroup" aria-label="What to run" className="flex gap-1 rounded-md bg-slate-100 p-1 text-sm">
              {[
                [false, 'One action'],
                [true, 'Pipeline'],
              ].map(([value, label]) => (
                <button
                  key={String(value)}
                  type="button"
                  role="radio"
                  aria-checked={pipeline === value}
                  className={`rounded px-3 py-1 ${pipeline === value ? 'bg-white font-medium shadow' : 'text-slate-600'}`}
                  onClick={() => setPipeline(value as boolean)}
                >
                  {label as string}
                </button>
              ))}
            </div>
          </div>
          {!selected ? (
            <p className="text-sm text-slate-500">Pick a file to see the actions that apply to it.</p>
          ) : actions.error ? (
            <ErrorBox error={actions.error} />
          ) : (
            shown.map((s, i) => {
              // The first step takes the file's type; later ones whatever the step before may produce.
              const flowing = i === 0 ? selected.media_type : undefined;
              const options = all.filter((a) => !flowing || a.media_type === flowing);
              const mediaType = typeOf(s.actionId);
              return (
                <fieldset key={s.key} className="rounded-md border border-slate-200 p-3" data-testid="step">
                  <legend className="px-1 text-sm font-semibold">{pipeline ? `Step ${i + 1}` : 'Action'}</legend>
                  <div className="mb-3 flex flex-wrap items-end gap-2">
                    <div className="min-w-60 flex-1">
                      <label htmlFor={`step-${s.key}-action`} className="label">
                        Action
                      </label>
                      <select id={`step-${s.key}-action`} className="input mt-1" value={s.actionId} onChange={(e) => setAction(s.key, e.target.value)}>
                        <option value="">Choose an action…</option>
                        {(['image', 'audio'] as const).map((t) => {
                          const group = options.filter((a: ActionSummary) => a.media_type === t);
                          return group.length ? (
                            <optgroup key={t} label={t === 'image' ? 'Image actions' : 'Audio actions'}>
                              {group.map((a) => (
                                <option key={a.action_id} value={a.action_id}>
                                  {a.display_name} ({a.action_id})
                                </option>
                              ))}
                            </optgroup>
                          ) : null;
                        })}
                      </select>
                    </div>
                    {pipeline && shown.length > 1 && (
                      <button type="button" className="btn-secondary" onClick={() => setSteps((ss) => ss.filter((x) => x.key !== s.key))}>
                        Remove step
                      </button>
                    )}
                  </div>
                  {s.actionId && mediaType && (
                    <ActionParameters
                      mediaType={mediaType}
                      actionId={s.actionId}
                      idPrefix={`step-${s.key}`}
                      formRef={(h) => (h ? forms.current.set(s.key, h) : forms.current.delete(s.key))}
                    />
                  )}
                </fieldset>
              );
            })
          )}
          {pipeline && selected && (
            <button type="button" className="btn-secondary" onClick={() => setSteps((ss) => [...ss, { key: nextKey.current++, actionId: '' }])}>
              Add a step
            </button>
          )}
        </section>
        {error !== undefined && <ErrorBox error={error} title="The job was not accepted" />}
        <div className="flex justify-end">
          <button type="submit" className="btn-primary" disabled={submitting || !selected}>
            {submitting ? 'Submitting…' : pipeline ? 'Run pipeline' : 'Run'}
          </button>
        </div>
      </form>
    </>
  );
}
