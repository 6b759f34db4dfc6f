import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { MediaFileSchema } from './media-file.js';
import { ProcessingJobSchema } from './processing-job.js';
import { jobEventTrigger } from './job-event-notify.js';
import { SEARCH_INDEX_SQL } from './search.js';

import { STEP_STATUSES } from '#workflows/job-status.js';

export { STEP_STATUSES, type StepStatus } from '#workflows/job-status.js';

/**
 * One step of a job's pipeline. Its row is also the step's artifact: a file output is a media_files
 * row (resultMedia), a JSON output lives in resultData. `result` keeps the workflow's own view of the
 * output so a new workflow run (a retry after the window) resumes without re-running the step.
 */
export const JobStepSchema = defineEntity({
  name: 'JobStep',
  tableName: 'job_steps',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    job: p.manyToOne(ProcessingJobSchema).ref().deleteRule('cascade'),
    stepIndex: p.integer(),
    actionId: p.string().length(50),
    parameters: p.json<Record<string, unknown>>().columnType('jsonb').onCreate(() => ({})).defaultRaw(`'{}'`),
    status: p.enum(STEP_STATUSES).default('pending'),
    /** Activity attempts over every run of the step (retries by Temporal and by retry requests). */
    attempts: p.integer().default(0),
    progress: p.double().default(0),
    startedAt: p.datetime().nullable(),
    completedAt: p.datetime().nullable(),
    processingTimeMs: p.integer().nullable(),
    resultType: p.string().length(10).nullable(),
    resultMedia: p.manyToOne(MediaFileSchema).ref().nullable().deleteRule('set null'),
    resultData: p.json<Record<string, unknown>>().columnType('jsonb').nullable(),
    result: p.json<Record<string, unknown>>().columnType('jsonb').nullable(),
    errorCode: p.string().length(50).nullable(),
    errorMessage: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()).defaultRaw('now()'),
  },
  uniques: [{ name: 'job_steps_job_id_step_index_unique', properties: ['job', 'stepIndex'] }],
  // Full-text search over transcripts and OCR text (entities/search.ts).
  indexes: [{ name: 'job_steps_text_search_index', expression: SEARCH_INDEX_SQL }],
});
export type JobStep = InferEntity<typeof JobStepSchema>;

export const JOB_EVENT_TYPES = ['status', 'progress'] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

/**
 * The job's event log, read by the SSE stream. The bigserial id orders events across API instances
 * and is the stream's event id (Last-Event-ID resumes after it).
 */
export const JobEventSchema = defineEntity({
  name: 'JobEvent',
  tableName: 'job_events',
  triggers: [jobEventTrigger],
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    job: p.manyToOne(ProcessingJobSchema).ref().deleteRule('cascade'),
    type: p.enum(JOB_EVENT_TYPES),
    data: p.json<Record<string, unknown>>().columnType('jsonb'),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
  },
  indexes: [{ name: 'job_events_job_id_id_index', properties: ['job', 'id'] }],
});
export type JobEvent = InferEntity<typeof JobEventSchema>;
