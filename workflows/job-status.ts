// The one definition of job and step statuses, shared by the API, the workflows (this file has no
// imports, so the workflow bundle may use it), the worker and the entities.
export const JOB_STATUSES = ['pending', 'queued', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_JOB_STATUSES = ['completed', 'failed', 'cancelled'] as const satisfies readonly JobStatus[];
export type TerminalJobStatus = (typeof TERMINAL_JOB_STATUSES)[number];
/** Not yet terminal: the job may still run. */
export const OPEN_JOB_STATUSES = ['pending', 'queued', 'processing'] as const satisfies readonly JobStatus[];

export const isTerminal = (status: string): status is TerminalJobStatus => (TERMINAL_JOB_STATUSES as readonly string[]).includes(status);

export const STEP_STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
