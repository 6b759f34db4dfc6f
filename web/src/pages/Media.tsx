import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { toast } from 'sonner';
import { api } from '../api/client';
import { ApiError, unwrap } from '../api/errors';
import type { MediaFile } from '../api/types';
import { Thumbnail } from '../components/MediaPreview';
import { EmptyState, ErrorBox, formatBytes, PageHeader, ProgressBar, Skeleton, StatusBadge } from '../components/ui';
import { uploadFile } from '../lib/upload';

interface UploadRow {
  key: string;
  name: string;
  size: number;
  progress: number;
  state: 'uploading' | 'done' | 'failed';
  error?: string;
  mediaId?: string;
  abort?: () => void;
}

function Uploader() {
  const queryClient = useQueryClient();
  const [rows, setRows] = useState<UploadRow[]>([]);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const patch = (key: string, p: Partial<UploadRow>) => setRows((rs) => rs.map((r) => (r.key === key ? { ...r, ...p } : r)));

  function start(files: FileList | File[]) {
    for (const file of Array.from(files)) {
      const key = `${file.name}-${file.size}-${Math.random()}`;
      const handle = uploadFile(file, (progress) => patch(key, { progress }));
      setRows((rs) => [{ key, name: file.name, size: file.size, progress: 0, state: 'uploading', abort: handle.abort }, ...rs]);
      handle.done.then(
        ({ mediaId }) => {
          patch(key, { state: 'done', progress: 1, mediaId });
          toast.success(`Uploaded ${file.name}`);
          void queryClient.invalidateQueries({ queryKey: ['media'] });
        },
        (err: unknown) => {
          const message = err instanceof ApiError ? `${err.message}${err.requestId ? ` (request id ${err.requestId})` : ''}` : String(err);
          patch(key, { state: 'failed', error: message });
          toast.error(`Could not upload ${file.name}`, { description: message });
        },
      );
    }
  }

  return (
    <section aria-label="Upload" className="mb-6">
      <div
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          if (e.dataTransfer.files.length) start(e.dataTransfer.files);
        }}
        className={`rounded-lg border-2 border-dashed p-6 text-center transition ${over ? 'border-indigo-500 bg-indigo-50' : 'border-slate-300 bg-white'}`}
      >
        <p className="text-sm text-slate-600">Drop images or audio files here, or</p>
        <button type="button" className="btn-primary mt-2" onClick={() => input.current?.click()}>
          Choose files
        </button>
        <label htmlFor="upload-input" className="sr-only">
          Files to upload
        </label>
        <input
          id="upload-input"
          ref={input}
          type="file"
          multiple
          accept="image/*,audio/*"
          className="sr-only"
          onChange={(e) => {
            if (e.target.files?.length) start(e.target.files);
            e.target.value = '';
          }}
        />
        <p className="hint">JPEG, PNG, WebP, GIF, TIFF, BMP, AVIF; MP3, WAV, FLAC, OGG, M4A, WebM. Large files upload resumably.</p>
      </div>
      {rows.length > 0 && (
        <ul className="mt-3 space-y-2" aria-label="Uploads">
          {rows.map((r) => (
            <li key={r.key} className="card flex flex-wrap items-center gap-3 p-3" data-testid="upload-row">
              <div className="min-w-0 flex-1">
                <p className="truncate text-sm font-medium">
                  {r.name} <span className="text-xs font-normal text-slate-500">{formatBytes(r.size)}</span>
                </p>
                <ProgressBar value={r.progress} label={`Upload of ${r.name}`} />
                {r.error && <p className="field-error">{r.error}</p>}
              </div>
              <span className="text-xs text-slate-600" data-testid="upload-state">
                {r.state === 'uploading' ? `${Math.round(r.progress * 100)}%` : r.state}
              </span>
              {r.state === 'uploading' && (
                <button type="button" className="btn-secondary btn-sm" onClick={() => r.abort?.()}>
                  Cancel
                </button>
              )}
              {r.mediaId && (
                <Link className="btn-secondary btn-sm" to={`/media/${r.mediaId}`}>
                  Open
                </Link>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function MediaPage() {
  const [params, setParams] = useSearchParams();
  const mediaType = (params.get('media_type') ?? '') as '' | 'image' | 'audio';
  const status = (params.get('status') ?? '') as '' | 'processing' | 'ready' | 'failed';
  const order = (params.get('order') ?? 'desc') as 'asc' | 'desc';
  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  const list = useInfiniteQuery({
    queryKey: ['media', { mediaType, status, order }],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/api/v1/media', {
          params: { query: { media_type: mediaType || undefined, status: status || undefined, order, limit: 24, cursor: pageParam } },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const items: MediaFile[] = list.data?.pages.flatMap((p) => p.data) ?? [];

  return (
    <>
      <PageHeader title="Media library" />
      <Uploader />
      <div className="mb-4 flex flex-wrap items-end gap-3" role="group" aria-label="Filters">
        <div>
          <label htmlFor="f-type" className="label">
            Type
          </label>
          <select id="f-type" className="input mt-1" value={mediaType} onChange={(e) => setFilter('media_type', e.target.value)}>
            <option value="">All</option>
            <option value="image">Images</option>
            <option value="audio">Audio</option>
          </select>
        </div>
        <div>
          <label htmlFor="f-status" className="label">
            Status
          </label>
          <select id="f-status" className="input mt-1" value={status} onChange={(e) => setFilter('status', e.target.value)}>
            <option value="">Any</option>
            <option value="ready">Ready</option>
            <option value="processing">Processing</option>
            <option value="failed">Failed</option>
          </select>
        </div>
        <div>
          <label htmlFor="f-order" className="label">
            Order
          </label>
          <select id="f-order" className="input mt-1" value={order} onChange={(e) => setFilter('order', e.target.value === 'desc' ? '' : e.target.value)}>
            <option value="desc">Newest first</option>
            <option value="asc">Oldest first</option>
          </select>
        </div>
      </div>
      {list.error && <ErrorBox error={list.error} title="Could not load the media library" />}
      {list.isLoading ? (
        <div className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4">
          {Array.from({ length: 8 }, (_, i) => (
            <Skeleton key={i} className="h-48 w-full" />
          ))}
        </div>
      ) : items.length === 0 && !list.error ? (
        <EmptyState title={mediaType || status ? 'No file matches these filters' : 'No media yet'}>Upload an image or an audio file to get started.</EmptyState>
      ) : (
        <ul className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4" aria-label="Media files">
          {items.map((m) => (
            <li key={m.id}>
              <Link to={`/media/${m.id}`} className="card block p-2 hover:border-indigo-300 focus-visible:outline-2 focus-visible:outline-indigo-600" data-testid="media-card">
                <Thumbnail media={m} />
                <p className="mt-2 truncate text-sm font-medium" title={m.original_filename}>
                  {m.original_filename}
                </p>
                <p className="flex items-center justify-between text-xs text-slate-500">
                  <span>
                    {m.mime_type} · {formatBytes(m.file_size_bytes)}
                  </span>
                  {m.status !== 'ready' && <StatusBadge status={m.status} />}
                </p>
              </Link>
            </li>
          ))}
        </ul>
      )}
      {list.hasNextPage && (
        <div className="mt-4 text-center">
          <button type="button" className="btn-secondary" disabled={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
            {list.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
    </>
  );
}
