import { download } from '../api/client';
import type { Job, JobArtifact } from '../api/types';
import { MediaPreview } from '../pages/MediaDetail';
import { AudioPlayer } from './AudioPlayer';
import { JsonTable } from './JsonTable';
import { useFileBlob } from './MediaPreview';
import { ErrorBox, formatBytes, Skeleton, toastError, useObjectUrl } from './ui';

const TRANSCRIPTS = ['aud_transcribe', 'aud_translate'];
const EXPORTS = ['txt', 'srt', 'vtt', 'json'] as const;

function timestamp(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = (seconds % 60).toFixed(1).padStart(4, '0');
  return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${s}`;
}

interface Segment {
  start: number;
  end: number;
  text: string;
  speaker?: string;
}

function Transcript({ job, data }: { job: Pick<Job, 'id'>; data: Record<string, unknown> }) {
  const segments = (Array.isArray(data.segments) ? data.segments : []) as Segment[];
  return (
    <div className="space-y-3" data-testid="transcript">
      <div className="flex flex-wrap gap-2" role="group" aria-label="Export the transcript">
        {EXPORTS.map((f) => (
          <button
            key={f}
            type="button"
            className="btn-secondary btn-sm"
            onClick={() => download(`/api/v1/jobs/${job.id}/result?format=${f}`, `transcript.${f}`).catch((e) => toastError(e, 'Export failed'))}
          >
            Export {f.toUpperCase()}
          </button>
        ))}
      </div>
      {segments.length ? (
        <ol className="divide-y divide-slate-100 text-sm">
          {segments.map((s, i) => (
            <li key={i} className="flex gap-3 py-1">
              <span className="w-28 shrink-0 font-mono text-xs text-slate-500">
                {timestamp(s.start)} – {timestamp(s.end)}
              </span>
              <span>
                {s.speaker && <strong className="mr-1">{s.speaker}:</strong>}
                {s.text}
              </span>
            </li>
          ))}
        </ol>
      ) : (
        <p className="whitespace-pre-wrap text-sm">{String(data.text ?? '')}</p>
      )}
    </div>
  );
}

function FileResult({ job, artifact, originalName }: { job: Job; artifact: JobArtifact; originalName: string }) {
  const blob = useFileBlob(artifact.download_url);
  const mime = artifact.mime_type ?? blob.data?.type ?? '';
  const url = useObjectUrl(mime.startsWith('image/') ? blob.data : undefined);
  const name = `${artifact.action_id}-result.${mime.split('/')[1]?.split(/[+;]/)[0] ?? 'bin'}`;
  return (
    <div className="space-y-3">
      {blob.isLoading && <Skeleton className="h-48 w-full" />}
      {blob.error && <ErrorBox error={blob.error} title="Could not load the result" />}
      {mime.startsWith('image/') && url && (
        <div className="grid gap-4 md:grid-cols-2">
          <figure>
            <figcaption className="mb-1 text-xs font-semibold uppercase text-slate-500">Original</figcaption>
            <MediaPreview mediaId={job.media_id} mediaType="image" name={originalName} />
          </figure>
          <figure>
            <figcaption className="mb-1 text-xs font-semibold uppercase text-slate-500">Result</figcaption>
            <img src={url} alt={`Result of ${artifact.action_id}`} className="max-h-[28rem] w-full rounded object-contain" data-testid="result-image" />
          </figure>
        </div>
      )}
      {mime.startsWith('audio/') && blob.data && <AudioPlayer blob={blob.data} label={`Result of ${artifact.action_id}`} />}
      <button type="button" className="btn-secondary btn-sm" onClick={() => download(artifact.download_url, name).catch((e) => toastError(e, 'Download failed'))}>
        Download result{artifact.file_size_bytes !== undefined ? ` (${formatBytes(artifact.file_size_bytes)})` : ''}
      </button>
    </div>
  );
}

/** One step's output, shown as people expect it. */
export function ArtifactView({ job, artifact, originalName, originalType }: { job: Job; artifact: JobArtifact; originalName: string; originalType?: string }) {
  if (artifact.type === 'file') {
    // An image result of an audio input (a waveform) has no image original to put beside it.
    if (originalType === 'audio' && artifact.mime_type?.startsWith('image/')) return <AudioImageResult artifact={artifact} />;
    return <FileResult job={job} artifact={artifact} originalName={originalName} />;
  }
  const data = (artifact.data ?? {}) as Record<string, unknown>;
  if (TRANSCRIPTS.includes(artifact.action_id)) return <Transcript job={job} data={data} />;
  if (artifact.action_id === 'img_ocr') {
    return (
      <div className="space-y-3">
        <h4 className="text-sm font-semibold">Recognised text</h4>
        <pre className="whitespace-pre-wrap rounded bg-slate-50 p-3 text-sm" data-testid="ocr-text">
          {String(data.text ?? '') || '(no text found)'}
        </pre>
        <details>
          <summary className="cursor-pointer text-sm text-slate-600">All details</summary>
          <JsonTable value={data} />
        </details>
      </div>
    );
  }
  return <JsonTable value={data} />;
}

function AudioImageResult({ artifact }: { artifact: JobArtifact }) {
  const blob = useFileBlob(artifact.download_url);
  const url = useObjectUrl(blob.data);
  if (blob.isLoading) return <Skeleton className="h-32 w-full" />;
  return (
    <div className="space-y-2">
      {url && <img src={url} alt={`Result of ${artifact.action_id}`} className="w-full rounded" data-testid="result-image" />}
      <button type="button" className="btn-secondary btn-sm" onClick={() => download(artifact.download_url, `${artifact.action_id}.png`).catch((e) => toastError(e, 'Download failed'))}>
        Download result
      </button>
    </div>
  );
}
