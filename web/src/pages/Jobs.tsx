import { useInfiniteQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { api } from '../api/client';
import { unwrap } from '../api/errors';
import { isTerminal, type Job, type JobStatus } from '../api/types';
import { JobActions } from '../components/JobActions';
import { EmptyState, ErrorBox, formatDate, PageHeader, ProgressBar, SkeletonRows, StatusBadge } from '../components/ui';
import { useLiveJob } from '../lib/live';
import { useActions } from './Run';

const LIST_REFRESH_MS = 3000;
const STATUSES: JobStatus[] = ['pending', 'queued', 'processing', 'completed', 'failed', 'cancelled'];

function JobRow({ job }: { job: Job }) {
  const live = useLiveJob(job)!;
  const steps = live.totalSteps ?? job.total_steps ?? 1;
  return (
    <tr data-testid="job-row" data-job-id={job.id} data-status={live.status}>
      <td>
        <Link to={`/jobs/${job.id}`} className="font-medium text-indigo-700 underline">
          {job.action_id}
        </Link>
        {steps > 1 && <span className="ml-1 text-xs text-slate-500">pipeline of {steps}</span>}
      </td>
      <td>
        <StatusBadge status={live.status} />
      </td>
      <td className="w-40">
        <ProgressBar value={live.progress} label={`Progress of ${job.action_id}`} />
        <span className="text-xs text-slate-500">{Math.round(live.progress * 100)}%</span>
      </td>
      <td className="hidden text-xs text-slate-500 sm:table-cell">{formatDate(job.created_at)}</td>
      <td className="text-right">
        <JobActions job={job} status={live.status} small />
      </td>
    </tr>
  );
}

export function JobsPage() {
  const [params, setParams] = useSearchParams();
  const status = (params.get('status') ?? '') as JobStatus | '';
  const actionId = params.get('action_id') ?? '';
  const mediaType = (params.get('media_type') ?? '') as '' | 'image' | 'audio';
  const actions = useActions();
  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  const list = useInfiniteQuery({
    queryKey: ['jobs', { status, actionId, mediaType }],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/api/v1/jobs', {
          params: { query: { status: status || undefined, action_id: actionId || undefined, media_type: mediaType || undefined, limit: 25, cursor: pageParam } },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    // Rows beyond the page's stream slots (see lib/stream-slots.ts) are kept current by refreshing the list.
    refetchInterval: (q) => (q.state.data?.pages.some((p) => p.data.some((j) => !isTerminal(j.status))) ? LIST_REFRESH_MS : false),
  });
  const jobs = list.data?.pages.flatMap((p) => p.data) ?? [];

  return (
    <>
      <PageHeader title="Jobs">
        <Link to="/run" className="btn-primary">
          Run an action
        </Link>
      </PageHeader>
      <div className="mb-4 flex flex-wrap items-end gap-3" role="group" aria-label="Filters">
        <div>
          <label htmlFor="j-status" className="label">
            Status
          </label>
          <select id="j-status" className="input mt-1" value={status} onChange={(e) => setFilter('status', e.target.value)}>
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="j-action" className="label">
            Action
          </label>
          <select id="j-action" className="input mt-1" value={actionId} onChange={(e) => setFilter('action_id', e.target.value)}>
            <option value="">Any</option>
            {actions.data?.actions.map((a) => (
              <option key={a.action_id} value={a.action_id}>
                {a.display_name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="j-type" className="label">
            Input type
          </label>
          <select id="j-type" className="input mt-1" value={mediaType} onChange={(e) => setFilter('media_type', e.target.value)}>
            <option value="">Any</option>
            <option value="image">Image</option>
            <option value="audio">Audio</option>
          </select>
        </div>
      </div>
      {list.error && <ErrorBox error={list.error} title="Could not load the jobs" />}
      {list.isLoading ? (
        <SkeletonRows rows={6} />
      ) : jobs.length === 0 && !list.error ? (
        <EmptyState title={status || actionId || mediaType ? 'No job matches these filters' : 'No jobs yet'}>
          <Link to="/run" className="text-indigo-700 underline">
            Run an action
          </Link>{' '}
          on one of your files.
        </EmptyState>
      ) : (
        <div className="card overflow-x-auto p-0">
          <table className="data-table">
            <thead>
              <tr>
                <th>Action</th>
                <th>Status</th>
                <th>Progress</th>
                <th className="hidden sm:table-cell">Created</th>
                <th className="text-right">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <JobRow key={j.id} job={j} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.hasNextPage && (
        <div className="mt-4 text-center">
          <button type="button" className="btn-secondary" disabled={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
            Load more
          </button>
        </div>
      )}
    </>
  );
}
