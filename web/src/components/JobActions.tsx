import { useMutation, useQueryClient } from '@tanstack/react-query';
import { toast } from 'sonner';
import { api } from '../api/client';
import { unwrap } from '../api/errors';
import { isTerminal, type Job, type JobStatus } from '../api/types';
import { useCan } from './Layout';
import { toastError } from './ui';

/** Cancel (while running) and retry (after failing) buttons of a job. */
export function JobActions({ job, status, small }: { job: Pick<Job, 'id' | 'action_id'>; status: JobStatus; small?: boolean }) {
  const queryClient = useQueryClient();
  const canRun = useCan('jobs:create');
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['job', job.id] });
    void queryClient.invalidateQueries({ queryKey: ['jobs'] });
  };
  const cancel = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/jobs/{id}/cancel', { params: { path: { id: job.id } }, body: { reason: 'Cancelled from the console' } })),
    onSuccess: () => {
      toast.success('Job cancelled');
      refresh();
    },
    onError: (err) => toastError(err, 'Could not cancel the job'),
  });
  const retry = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/jobs/{id}/retry', { params: { path: { id: job.id } } })),
    onSuccess: () => {
      toast.success('Job retried');
      refresh();
    },
    onError: (err) => toastError(err, 'Could not retry the job'),
  });
  if (!canRun) return null;
  const size = small ? ' btn-sm' : '';
  return (
    <span className="inline-flex gap-2">
      {!isTerminal(status) && (
        <button type="button" className={`btn-secondary${size}`} disabled={cancel.isPending} onClick={() => cancel.mutate()} aria-label={`Cancel job ${job.action_id}`}>
          Cancel
        </button>
      )}
      {status === 'failed' && (
        <button type="button" className={`btn-secondary${size}`} disabled={retry.isPending} onClick={() => retry.mutate()} aria-label={`Retry job ${job.action_id}`}>
          Retry
        </button>
      )}
    </span>
  );
}
