import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router';
import { toast } from 'sonner';
import { api, download } from '../api/client';
import { unwrap } from '../api/errors';
import { AudioPlayer } from '../components/AudioPlayer';
import { JsonTable } from '../components/JsonTable';
import { useCan } from '../components/Layout';
import { useFileBlob } from '../components/MediaPreview';
import { ErrorBox, formatBytes, formatDate, PageHeader, Skeleton, StatusBadge, toastError, useObjectUrl } from '../components/ui';

export function MediaPreview({ mediaId, mediaType, name }: { mediaId: string; mediaType: string; name: string }) {
  const blob = useFileBlob(`/api/v1/media/${mediaId}/download`);
  const url = useObjectUrl(mediaType === 'image' ? blob.data : undefined);
  if (blob.isLoading) return <Skeleton className="h-64 w-full" />;
  if (blob.error) return <ErrorBox error={blob.error} title="Could not load the file" />;
  if (mediaType === 'audio' && blob.data) return <AudioPlayer blob={blob.data} label={name} />;
  return url ? <img src={url} alt={name} className="max-h-[28rem] w-full rounded object-contain" data-testid="media-image" /> : null;
}

export function MediaDetailPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const canWrite = useCan('media:write');
  const media = useQuery({ queryKey: ['media', id], queryFn: () => unwrap(api.GET('/api/v1/media/{id}', { params: { path: { id } } })) });
  const jobs = useQuery({
    queryKey: ['jobs', { mediaId: id }],
    queryFn: () => unwrap(api.GET('/api/v1/jobs', { params: { query: { media_id: id, limit: 10 } } })),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/v1/media/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      toast.success('File deleted');
      void queryClient.invalidateQueries({ queryKey: ['media'] });
      navigate('/media');
    },
    onError: (err) => toastError(err, 'Could not delete the file'),
  });

  if (media.isLoading) return <Skeleton className="h-96 w-full" />;
  if (media.error || !media.data) return <ErrorBox error={media.error} title="Could not load this file" />;
  const m = media.data;

  return (
    <>
      <PageHeader title={m.original_filename}>
        <Link to={`/run?media=${m.id}`} className="btn-primary">
          Run an action
        </Link>
        <button type="button" className="btn-secondary" onClick={() => download(`/api/v1/media/${m.id}/download`, m.original_filename).catch((e) => toastError(e, 'Download failed'))}>
          Download
        </button>
        {canWrite && (
          <button
            type="button"
            className="btn-danger"
            disabled={remove.isPending}
            onClick={() => window.confirm(`Delete ${m.original_filename}? This cannot be undone.`) && remove.mutate()}
          >
            Delete
          </button>
        )}
      </PageHeader>
      <div className="grid gap-6 lg:grid-cols-2">
        <section className="card" aria-label="Preview">
          <MediaPreview mediaId={m.id} mediaType={m.media_type} name={m.original_filename} />
        </section>
        <section className="card" aria-label="Details">
          <h2 className="h2 mb-2">Details</h2>
          <dl className="grid grid-cols-3 gap-x-3 gap-y-1 text-sm">
            {(
              [
                ['Type', `${m.media_type} (${m.mime_type})`],
                ['Size', formatBytes(m.file_size_bytes)],
                ['Status', <StatusBadge key="s" status={m.status} />],
                ['Uploaded', formatDate(m.created_at)],
                ['Expires', formatDate(m.expires_at)],
                ['SHA-256', <code key="c" className="break-all text-xs">{m.checksum_sha256}</code>],
              ] as const
            ).map(([k, v]) => (
              <div key={k} className="contents">
                <dt className="text-slate-500">{k}</dt>
                <dd className="col-span-2">{v}</dd>
              </div>
            ))}
          </dl>
          {m.metadata && Object.keys(m.metadata).length > 0 && (
            <>
              <h3 className="mt-4 mb-1 text-sm font-semibold">Metadata</h3>
              <JsonTable value={m.metadata} />
            </>
          )}
        </section>
      </div>
      <section className="card mt-6" aria-label="Jobs on this file">
        <h2 className="h2 mb-2">Jobs on this file</h2>
        {jobs.data?.data.length ? (
          <ul className="divide-y divide-slate-100 text-sm">
            {jobs.data.data.map((j) => (
              <li key={j.id} className="flex items-center justify-between py-2">
                <Link to={`/jobs/${j.id}`} className="text-indigo-700 underline">
                  {j.action_id}
                  {(j.total_steps ?? 1) > 1 ? ` + ${(j.total_steps ?? 1) - 1} more` : ''}
                </Link>
                <span className="flex items-center gap-2">
                  <StatusBadge status={j.status} /> <span className="text-xs text-slate-500">{formatDate(j.created_at)}</span>
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-slate-500">No job has run on this file yet.</p>
        )}
      </section>
    </>
  );
}
