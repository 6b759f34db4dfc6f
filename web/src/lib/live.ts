import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { followJob, type JobEvent } from '../api/events';
import { isTerminal, type Job, type JobStatus } from '../api/types';

export interface LiveState {
  status: JobStatus;
  progress: number;
  currentStep?: number | null;
  totalSteps?: number;
  stepProgress?: number;
}

/**
 * The job's status and progress as its event stream reports them, while it is not terminal.
 * A terminal event refreshes the job (its result, steps and errors) and the job lists.
 */
export function useLiveJob(job: Pick<Job, 'id' | 'status' | 'progress' | 'current_step' | 'total_steps' | 'retry_count'> | undefined): LiveState | undefined {
  const queryClient = useQueryClient();
  const [live, setLive] = useState<LiveState>();
  const id = job?.id;
  const follow = job !== undefined && !isTerminal(job.status);
  useEffect(() => {
    if (!id || !follow) return;
    const abort = new AbortController();
    void followJob(
      id,
      (e: JobEvent) => {
        setLive((prev) => ({
          status: e.data.status ?? prev?.status ?? 'queued',
          progress: e.data.progress ?? prev?.progress ?? 0,
          currentStep: e.data.current_step ?? prev?.currentStep,
          totalSteps: e.data.total_steps ?? prev?.totalSteps,
          stepProgress: e.data.step_progress ?? prev?.stepProgress,
        }));
        if (e.data.status && isTerminal(e.data.status)) {
          void queryClient.invalidateQueries({ queryKey: ['job', id] });
          void queryClient.invalidateQueries({ queryKey: ['jobs'] });
        } else if (e.event === 'status') {
          void queryClient.invalidateQueries({ queryKey: ['job', id] });
        }
      },
      abort.signal,
    );
    return () => abort.abort();
    // A retried job (new retry_count) has a new stream to follow.
  }, [id, follow, job?.retry_count, queryClient]);
  if (!job) return undefined;
  if (!follow || !live) return { status: job.status, progress: job.progress, currentStep: job.current_step, totalSteps: job.total_steps };
  return live;
}
