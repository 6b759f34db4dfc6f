import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { followJob, type JobEvent } from '../api/events';
import { isTerminal, type Job, type JobStatus } from '../api/types';
import { streamSlots } from './stream-slots';

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
 * The stream waits for a slot of the page's pool (see stream-slots.ts) and gives it back when the
 * job ends; until it has one, the job's own fields (refreshed by whoever lists it) are shown.
 */
export function useLiveJob(job: Pick<Job, 'id' | 'status' | 'progress' | 'current_step' | 'total_steps' | 'retry_count'> | undefined): LiveState | undefined {
  const queryClient = useQueryClient();
  const [live, setLive] = useState<LiveState>();
  const id = job?.id;
  const running = job !== undefined && !isTerminal(job.status);
  useEffect(() => {
    if (!id || !running) return;
    const abort = new AbortController();
    const onEvent = (e: JobEvent) => {
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
    };
    const release = streamSlots.acquire(() => void followJob(id, onEvent, abort.signal).finally(() => release()));
    return () => {
      abort.abort();
      release();
    };
    // A retried job (new retry_count) has a new stream to follow.
  }, [id, running, job?.retry_count, queryClient]);
  if (!job) return undefined;
  if (!running || !live) return { status: job.status, progress: job.progress, currentStep: job.current_step, totalSteps: job.total_steps };
  return live;
}
