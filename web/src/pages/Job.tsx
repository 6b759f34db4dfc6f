import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api } from '../api/client';
import { unwrap } from '../api/errors';
import { isTerminal } from '../api/types';
import { JobActions } from '../components/JobActions';
import { ArtifactView } from '../components/Results';
import { ErrorBox, formatDate, PageHeader, ProgressBar, Skeleton, StatusBadge } from '../components/ui';
import { useLiveJob } from '../lib/live';

export function JobPage() {
  const { id = '' } = useParams();
  const job = useQuery({ queryKey: ['job', id], queryFn: () => unwrap(api.GET('/api/v1/jobs/{id}', { params: { path: { id } } })) });
  const live = useLiveJob(job.data);
  const terminal = live ? isTerminal(live.status) : false;
  const artifacts = useQuery({
    queryKey: ['job', id, 'artifacts', live?.status],
    queryFn: () => unwrap(api.GET('/api/v1/jobs/{id}/artifacts', { params: { path: { id } } })),
    enabled: Boolean(job.data),
  });
  const media = useQuery({
    queryKey: ['media', job.data?.media_id],
    queryFn: () => unwrap(api.GET('/api/v1/media/{id}', { params: { path: { id: job.data!.media_id } } })),
    enabled: Boolean(job.data),
    retry: false,
  });

  if (job.isLoading) return <Skeleton className="h-96 w-full" />;
  if (job.error || !job.data || !live) return <ErrorBox error={job.error} title="Could not load this job" />;
  const j = job.data;
  const totalSteps = live.totalSteps ?? j.total_steps ?? 1;

  return (
    <>
      <PageHeader title={totalSteps > 1 ? `Pipeline: ${j.steps?.map((s) => s.action_id).join(' → ') ?? j.action_id}` : j.action_id}>
        <JobActions job={j} status={live.status} />
      </PageHeader>
      <section className="card mb-6 space-y-3" aria-label="Status">
        <div className="flex flex-wrap items-center gap-3">
          <span data-testid="job-status">
            <StatusBadge status={live.status} />
          </span>
          <span className="text-sm text-slate-600" data-testid="job-progress">
            {Math.round(live.progress * 100)}%
          </span>
          {!terminal && totalSteps > 1 && live.currentStep != null && (
            <span className="text-sm text-slate-600">
              step {live.currentStep + 1} of {totalSteps}
            </span>
          )}
          {!terminal && <span className="text-xs text-slate-500">live</span>}
        </div>
        <ProgressBar value={live.progress} label="Job progress" />
        <dl className="grid grid-cols-2 gap-2 text-sm sm:grid-cols-4">
          <div>
            <dt className="text-slate-500">Input</dt>
            <dd>
              <Link to={`/media/${j.media_id}`} className="text-indigo-700 underline">
                {media.data?.original_filename ?? 'the file'}
              </Link>
            </dd>
          </div>
          <div>
            <dt className="text-slate-500">Created</dt>
            <dd>{formatDate(j.created_at)}</dd>
          </div>
          <div>
            <dt className="text-slate-500">Finished</dt>
            <dd>{formatDate(j.completed_at ?? j.cancelled_at)}</dd>
          </div>
          <div>
            <dt className="text-slate-500">Retries</dt>
            <dd data-testid="retry-count">{j.retry_count ?? 0}</dd>
          </div>
        </dl>
        {j.error && live.status === 'failed' && (
          <div role="alert" className="rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800">
            <p className="font-medium">The job failed: {j.error.code}</p>
            <p>{j.error.message}</p>
          </div>
        )}
        {live.status === 'cancelled' && (
          <p className="rounded-md border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900">
            Cancelled {formatDate(j.cancelled_at)}
            {j.cancel_reason ? `: ${j.cancel_reason}` : ''}
          </p>
        )}
      </section>

      {j.steps && j.steps.length > 0 && (
        <section className="card mb-6 overflow-x-auto" aria-label="Steps">
          <h2 className="h2 mb-2">Steps</h2>
          <table className="data-table">
            <thead>
              <tr>
                <th>#</th>
                <th>Action</th>
                <th>Status</th>
                <th>Progress</th>
                <th>Attempts</th>
                <th>Parameters</th>
              </tr>
            </thead>
            <tbody>
              {j.steps.map((s) => {
                const running = !terminal && live.currentStep === s.index;
                const progress = running ? (live.stepProgress ?? s.progress) : s.progress;
                return (
                  <tr key={s.index} data-testid="job-step">
                    <td>{s.index + 1}</td>
                    <td>{s.action_id}</td>
                    <td>
                      <StatusBadge status={running && s.status === 'pending' ? 'processing' : s.status} />
                      {s.error && <p className="field-error">{s.error.message}</p>}
                    </td>
                    <td className="w-32">
                      <ProgressBar value={progress} label={`Progress of step ${s.index + 1}`} />
                    </td>
                    <td>{s.attempts}</td>
                    <td className="max-w-xs break-all font-mono text-xs">{JSON.stringify(s.parameters)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      )}

      <section className="space-y-4" aria-label="Results">
        <h2 className="h2">Results</h2>
        {artifacts.isLoading ? (
          <Skeleton className="h-32 w-full" />
        ) : artifacts.error ? (
          <ErrorBox error={artifacts.error} title="Could not load the results" />
        ) : artifacts.data?.artifacts.length ? (
          artifacts.data.artifacts.map((a) => (
            <article key={a.id} className="card" data-testid="artifact">
              <h3 className="mb-2 text-sm font-semibold">
                Step {a.step_index + 1}: {a.action_id}
              </h3>
              <ArtifactView job={j} artifact={a} originalName={media.data?.original_filename ?? 'original'} originalType={media.data?.media_type} />
            </article>
          ))
        ) : (
          <p className="text-sm text-slate-500">{terminal ? 'This job produced no result.' : 'Results appear here when the steps finish.'}</p>
        )}
      </section>
    </>
  );
}
