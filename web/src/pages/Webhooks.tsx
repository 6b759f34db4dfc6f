import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { toast } from 'sonner';
import { z } from 'zod';
import { api } from '../api/client';
import { unwrap } from '../api/errors';
import type { Webhook, WebhookEvent } from '../api/types';
import { useCan } from '../components/Layout';
import { EmptyState, ErrorBox, formatDate, PageHeader, SecretOnce, SkeletonRows, StatusBadge, toastError } from '../components/ui';

const EVENTS: WebhookEvent[] = ['job.completed', 'job.failed', 'job.cancelled', 'job.progress'];

const schema = z.object({
  url: z
    .string()
    .trim()
    .max(2048)
    .refine((v) => /^https?:\/\/[^/\s@]+/.test(v), 'An http:// or https:// URL without credentials'),
  events: z.array(z.string()).min(1, 'Choose at least one event'),
  description: z.string().max(255, 'At most 255 characters'),
});
type Values = z.infer<typeof schema>;

function Deliveries({ webhook }: { webhook: Webhook }) {
  const queryClient = useQueryClient();
  const list = useQuery({
    queryKey: ['webhook-deliveries', webhook.id],
    queryFn: () => unwrap(api.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id: webhook.id } } })),
    refetchInterval: 5000,
  });
  const redeliver = useMutation({
    mutationFn: (deliveryId: string) => unwrap(api.POST('/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver', { params: { path: { id: webhook.id, deliveryId } } })),
    onSuccess: () => {
      toast.success('Delivery queued again');
      void queryClient.invalidateQueries({ queryKey: ['webhook-deliveries', webhook.id] });
    },
    onError: (err) => toastError(err, 'Could not redeliver'),
  });
  if (list.isLoading) return <SkeletonRows rows={2} />;
  if (list.error) return <ErrorBox error={list.error} title="Could not load the deliveries" />;
  if (!list.data?.data.length) return <p className="text-sm text-slate-500">No deliveries yet. Send a test to see one here.</p>;
  return (
    <div className="overflow-x-auto">
      <table className="data-table">
        <thead>
          <tr>
            <th>Event</th>
            <th>Status</th>
            <th>Attempts</th>
            <th>Last answer</th>
            <th>Created</th>
            <th>
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {list.data.data.map((d) => (
            <tr key={d.id} data-testid="delivery-row">
              <td>{d.event}</td>
              <td>
                <StatusBadge status={d.status} />
              </td>
              <td>{d.attempt_count}</td>
              <td className="text-xs">{d.last_status_code ?? d.last_error ?? '—'}</td>
              <td className="text-xs">{formatDate(d.created_at)}</td>
              <td className="text-right">
                <button type="button" className="btn-secondary btn-sm" disabled={d.status === 'pending'} onClick={() => redeliver.mutate(d.id)}>
                  Redeliver
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function WebhooksPage() {
  const queryClient = useQueryClient();
  const canManage = useCan('org:admin');
  const [secret, setSecret] = useState<string>();
  const [open, setOpen] = useState<string>();
  const hooks = useQuery({ queryKey: ['webhooks'], queryFn: () => unwrap(api.GET('/api/v1/webhooks')) });
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { url: '', events: ['job.completed', 'job.failed'], description: '' } });
  const e = form.formState.errors;
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['webhooks'] });
  const onSubmit = form.handleSubmit(async (v) => {
    try {
      const created = await unwrap(
        api.POST('/api/v1/webhooks', { body: { url: v.url, events: v.events as WebhookEvent[], ...(v.description ? { description: v.description } : {}) } }),
      );
      toast.success('Webhook created');
      form.reset();
      setSecret(created.secret);
      refresh();
    } catch (err) {
      toastError(err, 'Could not create the webhook');
    }
  });
  const test = useMutation({
    mutationFn: (w: Webhook) => unwrap(api.POST('/api/v1/webhooks/{id}/test', { params: { path: { id: w.id } } })),
    onSuccess: (_d, w) => {
      toast.success('Test event sent');
      setOpen(w.id);
      void queryClient.invalidateQueries({ queryKey: ['webhook-deliveries', w.id] });
    },
    onError: (err) => toastError(err, 'Could not send the test'),
  });
  const remove = useMutation({
    mutationFn: (w: Webhook) => unwrap(api.DELETE('/api/v1/webhooks/{id}', { params: { path: { id: w.id } } })),
    onSuccess: () => {
      toast.success('Webhook deleted');
      refresh();
    },
    onError: (err) => toastError(err, 'Could not delete the webhook'),
  });

  return (
    <>
      <PageHeader title="Webhooks" />
      {secret && <SecretOnce label="Signing secret of the new webhook" secret={secret} onDone={() => setSecret(undefined)} />}
      {canManage ? (
        <form onSubmit={onSubmit} noValidate className="card mb-6 space-y-4" aria-labelledby="new-webhook">
          <h2 id="new-webhook" className="h2">
            New webhook
          </h2>
          <div className="grid gap-4 sm:grid-cols-2">
            <div>
              <label htmlFor="wh-url" className="label">
                URL
              </label>
              <input id="wh-url" type="url" className="input mt-1" placeholder="https://example.com/hooks/mediaflow" aria-invalid={e.url ? true : undefined} {...form.register('url')} />
              {e.url && <p className="field-error">{e.url.message}</p>}
            </div>
            <div>
              <label htmlFor="wh-description" className="label">
                Description
              </label>
              <input id="wh-description" className="input mt-1" {...form.register('description')} />
              {e.description && <p className="field-error">{e.description.message}</p>}
            </div>
          </div>
          <fieldset>
            <legend className="label">Events</legend>
            <div className="mt-1 flex flex-wrap gap-4">
              {EVENTS.map((ev) => (
                <label key={ev} className="flex items-center gap-2 text-sm">
                  <input type="checkbox" value={ev} className="h-4 w-4" {...form.register('events')} />
                  {ev}
                </label>
              ))}
            </div>
            {e.events && <p className="field-error">{e.events.message}</p>}
          </fieldset>
          <button type="submit" className="btn-primary" disabled={form.formState.isSubmitting}>
            Create webhook
          </button>
        </form>
      ) : (
        <p className="mb-4 text-sm text-slate-600">Only owners and admins can add webhooks.</p>
      )}
      {hooks.error && <ErrorBox error={hooks.error} title="Could not load the webhooks" />}
      {hooks.isLoading ? (
        <SkeletonRows />
      ) : !hooks.data?.data.length ? (
        <EmptyState title="No webhooks yet">A webhook calls your server when a job completes, fails or is cancelled.</EmptyState>
      ) : (
        <ul className="space-y-4">
          {hooks.data.data.map((w) => (
            <li key={w.id} className="card space-y-3" data-testid="webhook">
              <div className="flex flex-wrap items-center justify-between gap-2">
                <div className="min-w-0">
                  <p className="truncate font-medium">{w.url}</p>
                  <p className="text-xs text-slate-500">
                    {w.events.join(', ')} · <StatusBadge status={w.status} />
                    {w.disabled_reason ? ` ${w.disabled_reason}` : ''}
                  </p>
                </div>
                <div className="flex gap-2">
                  {canManage && (
                    <button type="button" className="btn-secondary btn-sm" onClick={() => test.mutate(w)}>
                      Send test
                    </button>
                  )}
                  <button type="button" className="btn-secondary btn-sm" aria-expanded={open === w.id} onClick={() => setOpen(open === w.id ? undefined : w.id)}>
                    Deliveries
                  </button>
                  {canManage && (
                    <button type="button" className="btn-danger btn-sm" onClick={() => window.confirm(`Delete the webhook to ${w.url}?`) && remove.mutate(w)}>
                      Delete
                    </button>
                  )}
                </div>
              </div>
              {open === w.id && <Deliveries webhook={w} />}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
