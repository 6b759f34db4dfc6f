import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { toast } from 'sonner';
import { z } from 'zod';
import { api } from '../api/client';
import { unwrap } from '../api/errors';
import type { ApiKey, Permission } from '../api/types';
import { useMe } from '../components/Layout';
import { EmptyState, ErrorBox, formatDate, PageHeader, SecretOnce, SkeletonRows, StatusBadge, toastError } from '../components/ui';

const SCOPES: { scope: Permission; label: string }[] = [
  { scope: 'media:read', label: 'Read media' },
  { scope: 'media:write', label: 'Upload and delete media' },
  { scope: 'jobs:read', label: 'Read jobs and results' },
  { scope: 'jobs:create', label: 'Run, cancel and retry jobs' },
  { scope: 'usage:read', label: 'Read usage' },
  { scope: 'keys:manage', label: 'Manage API keys' },
  { scope: 'org:admin', label: 'Administer the organization' },
];

const schema = z.object({
  name: z.string().trim().min(1, 'Name the key').max(100, 'At most 100 characters'),
  permissions: z.array(z.string()).min(1, 'Give the key at least one scope'),
  expires_in_days: z
    .string()
    .refine((v) => v === '' || (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 3650), 'Between 1 and 3650 days, or empty for no expiry'),
});
type Values = z.infer<typeof schema>;

function CreateKey({ onCreated }: { onCreated: (secret: string) => void }) {
  const me = useMe();
  const queryClient = useQueryClient();
  const allowed = SCOPES.filter((s) => me.data?.permissions.includes(s.scope));
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { name: '', permissions: ['media:read', 'jobs:read'], expires_in_days: '90' } });
  const e = form.formState.errors;
  const onSubmit = form.handleSubmit(async (v) => {
    try {
      const created = await unwrap(
        api.POST('/api/v1/api-keys', {
          body: { name: v.name, permissions: v.permissions as Permission[], ...(v.expires_in_days ? { expires_in_days: Number(v.expires_in_days) } : {}) },
        }),
      );
      toast.success(`Key “${created.name}” created`);
      form.reset();
      void queryClient.invalidateQueries({ queryKey: ['api-keys'] });
      onCreated(created.api_key);
    } catch (err) {
      toastError(err, 'Could not create the key');
    }
  });
  return (
    <form onSubmit={onSubmit} noValidate className="card mb-6 space-y-4" aria-labelledby="new-key">
      <h2 id="new-key" className="h2">
        New API key
      </h2>
      <div className="grid gap-4 sm:grid-cols-2">
        <div>
          <label htmlFor="key-name" className="label">
            Name
          </label>
          <input id="key-name" className="input mt-1" placeholder="e.g. CI pipeline" aria-invalid={e.name ? true : undefined} {...form.register('name')} />
          {e.name && <p className="field-error">{e.name.message}</p>}
        </div>
        <div>
          <label htmlFor="key-expiry" className="label">
            Expires after (days)
          </label>
          <input id="key-expiry" type="number" min={1} max={3650} className="input mt-1" aria-invalid={e.expires_in_days ? true : undefined} {...form.register('expires_in_days')} />
          <p className="hint">Leave empty for a key that does not expire.</p>
          {e.expires_in_days && <p className="field-error">{e.expires_in_days.message}</p>}
        </div>
      </div>
      <fieldset>
        <legend className="label">Scopes</legend>
        <div className="mt-1 grid gap-1 sm:grid-cols-2">
          {allowed.map((s) => (
            <label key={s.scope} className="flex items-center gap-2 text-sm">
              <input type="checkbox" value={s.scope} className="h-4 w-4" {...form.register('permissions')} />
              <span>
                {s.label} <code className="text-xs text-slate-500">{s.scope}</code>
              </span>
            </label>
          ))}
        </div>
        {e.permissions && <p className="field-error">{e.permissions.message}</p>}
      </fieldset>
      <button type="submit" className="btn-primary" disabled={form.formState.isSubmitting}>
        Create key
      </button>
    </form>
  );
}

export function ApiKeysPage() {
  const queryClient = useQueryClient();
  const [secret, setSecret] = useState<{ label: string; value: string }>();
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => unwrap(api.GET('/api/v1/api-keys')) });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['api-keys'] });
  const revoke = useMutation({
    mutationFn: (k: ApiKey) => unwrap(api.DELETE('/api/v1/api-keys/{id}', { params: { path: { id: k.key_id } } })),
    onSuccess: (_d, k) => {
      toast.success(`Key “${k.name}” revoked`);
      refresh();
    },
    onError: (err) => toastError(err, 'Could not revoke the key'),
  });
  const rotate = useMutation({
    mutationFn: (k: ApiKey) => unwrap(api.POST('/api/v1/api-keys/{id}/rotate', { params: { path: { id: k.key_id } }, body: { grace_period_seconds: 3600 } })),
    onSuccess: (r) => {
      toast.success(`Key “${r.name}” rotated; the old secret works for one more hour`);
      setSecret({ label: `New secret of “${r.name}”`, value: r.api_key });
      refresh();
    },
    onError: (err) => toastError(err, 'Could not rotate the key'),
  });

  return (
    <>
      <PageHeader title="API keys" />
      <CreateKey onCreated={(value) => setSecret({ label: 'Your new API key', value })} />
      {secret && <SecretOnce label={secret.label} secret={secret.value} onDone={() => setSecret(undefined)} />}
      {keys.error && <ErrorBox error={keys.error} title="Could not load the keys" />}
      {keys.isLoading ? (
        <SkeletonRows />
      ) : !keys.data?.api_keys.length ? (
        <EmptyState title="No API keys yet">Create one above for scripts and integrations.</EmptyState>
      ) : (
        <div className="card overflow-x-auto p-0">
          <table className="data-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Key</th>
                <th>Scopes</th>
                <th>Status</th>
                <th>Expires</th>
                <th>Last used</th>
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.api_keys.map((k) => (
                <tr key={k.key_id} data-testid="api-key-row">
                  <td className="font-medium">{k.name}</td>
                  <td>
                    <code className="text-xs">{k.key_preview}</code>
                  </td>
                  <td className="text-xs">{k.permissions.join(', ')}</td>
                  <td>
                    <StatusBadge status={k.status} />
                  </td>
                  <td className="text-xs">{k.expires_at ? formatDate(k.expires_at) : 'never'}</td>
                  <td className="text-xs">{formatDate(k.last_used_at)}</td>
                  <td className="whitespace-nowrap text-right">
                    {k.status === 'active' && (
                      <span className="inline-flex gap-2">
                        <button type="button" className="btn-secondary btn-sm" onClick={() => rotate.mutate(k)} aria-label={`Rotate ${k.name}`}>
                          Rotate
                        </button>
                        <button
                          type="button"
                          className="btn-danger btn-sm"
                          onClick={() => window.confirm(`Revoke “${k.name}”? Requests with it will fail at once.`) && revoke.mutate(k)}
                          aria-label={`Revoke ${k.name}`}
                        >
                          Revoke
                        </button>
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
