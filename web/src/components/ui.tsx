import { useEffect, useState, type ReactNode } from 'react';
import { toast } from 'sonner';
import { ApiError, errorMessage } from '../api/errors';
import type { JobStatus } from '../api/types';

/** Toasts an API error in words, with its request id. */
export function toastError(err: unknown, title?: string) {
  if (err instanceof ApiError) toast.error(title ? `${title}: ${err.message}` : err.message, { description: err.description || undefined });
  else toast.error(title ? `${title}: ${errorMessage(err)}` : errorMessage(err));
}

export function ErrorBox({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  const api = error instanceof ApiError ? error : undefined;
  return (
    <div role="alert" className="rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800">
      <p className="font-medium">{title}</p>
      <p>{errorMessage(error)}</p>
      {api?.fields.length ? (
        <ul className="mt-1 list-disc pl-5">
          {api.fields.map((f) => (
            <li key={f.field}>
              {f.field}: {f.message}
            </li>
          ))}
        </ul>
      ) : null}
      {api?.requestId && <p className="mt-1 text-xs text-red-700">Request id {api.requestId}</p>}
    </div>
  );
}

export function Skeleton({ className = 'h-4 w-full' }: { className?: string }) {
  return <div aria-hidden className={`animate-pulse rounded bg-slate-200 ${className}`} />;
}

export function SkeletonRows({ rows = 4 }: { rows?: number }) {
  return (
    <div className="space-y-3" aria-busy="true" aria-label="Loading">
      {Array.from({ length: rows }, (_, i) => (
        <Skeleton key={i} className="h-8 w-full" />
      ))}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-slate-300 bg-white p-8 text-center">
      <p className="font-medium text-slate-700">{title}</p>
      {children && <div className="mt-2 text-sm text-slate-500">{children}</div>}
    </div>
  );
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <div role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} className="h-2 w-full overflow-hidden rounded bg-slate-200">
      <div className="h-full bg-indigo-500 transition-all duration-300" style={{ width: `${pct}%` }} />
    </div>
  );
}

const STATUS_STYLE: Record<string, string> = {
  pending: 'bg-slate-100 text-slate-700',
  queued: 'bg-slate-100 text-slate-700',
  processing: 'bg-blue-100 text-blue-800',
  completed: 'bg-green-100 text-green-800',
  succeeded: 'bg-green-100 text-green-800',
  ready: 'bg-green-100 text-green-800',
  active: 'bg-green-100 text-green-800',
  failed: 'bg-red-100 text-red-800',
  cancelled: 'bg-amber-100 text-amber-800',
  revoked: 'bg-amber-100 text-amber-800',
  expired: 'bg-amber-100 text-amber-800',
};

export function StatusBadge({ status }: { status: JobStatus | string }) {
  return <span className={`inline-block rounded-full px-2 py-0.5 text-xs font-medium ${STATUS_STYLE[status] ?? 'bg-slate-100 text-slate-700'}`}>{status}</span>;
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="mb-4 flex flex-wrap items-center justify-between gap-3">
      <h1 className="h1">{title}</h1>
      <div className="flex flex-wrap gap-2">{children}</div>
    </div>
  );
}

/** Shows a secret once, with a copy button; it lives only in this component's state. */
export function SecretOnce({ label, secret, onDone, note }: { label: string; secret: string; onDone: () => void; note?: React.ReactNode }) {
  return (
    <div role="dialog" aria-modal="true" aria-label={label} className="fixed inset-0 z-50 flex items-center justify-center bg-slate-900/50 p-4">
      <div className="card w-full max-w-lg space-y-3">
        <h2 className="h2">{label}</h2>
        <p className="text-sm text-slate-600">Copy it now: it is shown only once and cannot be retrieved later.</p>
        <code data-testid="secret" className="block break-all rounded bg-slate-100 p-2 text-sm">
          {secret}
        </code>
        {note && <p className="text-sm text-slate-600">{note}</p>}
        <div className="flex justify-end gap-2">
          <button
            type="button"
            className="btn-secondary"
            onClick={() => {
              navigator.clipboard?.writeText(secret).then(
                () => toast.success('Copied to the clipboard'),
                () => toast.error('The browser refused the clipboard: select the text and copy it'),
              );
            }}
          >
            Copy
          </button>
          <button type="button" className="btn-primary" onClick={onDone} autoFocus>
            I have stored it
          </button>
        </div>
      </div>
    </div>
  );
}

/** An object URL for a blob that is revoked when the component goes. */
export function useObjectUrl(blob: Blob | undefined): string | undefined {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    if (!blob) return setUrl(undefined);
    const u = URL.createObjectURL(blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob]);
  return url;
}

export const formatBytes = (n: number): string => {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
};

export const formatDate = (iso?: string | null) => (iso ? new Date(iso).toLocaleString() : '—');
