import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { OrganizationSchema } from './organization.js';
import { MediaFileSchema } from './media-file.js';

import { PRICE_TIERS } from '#lib/credits.js';
import { JOB_STATUSES } from '#workflows/job-status.js';

export { JOB_STATUSES, type JobStatus } from '#workflows/job-status.js';

/** An action's price tier, stored as the job's `action_category` (the name the column and the API keep). */
export const ACTION_CATEGORIES = PRICE_TIERS;

export const RESULT_TYPES = ['file', 'json', 'files'] as const;
export type ResultType = (typeof RESULT_TYPES)[number];

/** One requested action on one input media file, executed by a Temporal workflow. */
export const ProcessingJobSchema = defineEntity({
  name: 'ProcessingJob',
  tableName: 'processing_jobs',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    organization: p.manyToOne(OrganizationSchema).ref(),
    // Plain columns until users / API keys exist (no FK yet).
    userId: p.uuid().nullable(),
    apiKeyId: p.uuid().nullable(),
    inputMedia: p.manyToOne(MediaFileSchema).ref(),
    actionId: p.string().length(50),
    actionCategory: p.enum(ACTION_CATEGORIES),
    parameters: p.json<Record<string, unknown>>().columnType('jsonb').onCreate(() => ({})).defaultRaw(`'{}'`),
    status: p.enum(JOB_STATUSES).default('pending'),
    priority: p.integer().default(50),
    workerId: p.string().length(255).nullable(),
    workflowId: p.string().length(200).nullable().unique('processing_jobs_workflow_id_unique'),
    queuedAt: p.datetime().nullable(),
    startedAt: p.datetime().nullable(),
    completedAt: p.datetime().nullable(),
    /** 0..1. (The ::numeric casts keep MikroORM 7.2's check-constraint introspection from misreading `::double precision`.) */
    progress: p.double().default(0).check('progress::numeric >= 0 and progress::numeric <= 1'),
    resultType: p.enum(RESULT_TYPES).nullable(),
    resultMedia: p.manyToOne(MediaFileSchema).ref().nullable(),
    resultData: p.json<Record<string, unknown> | unknown[]>().columnType('jsonb').nullable(),
    errorCode: p.string().length(50).nullable(),
    errorMessage: p.text().nullable(),
    retryCount: p.integer().default(0),
    maxRetries: p.integer().default(3),
    processingTimeMs: p.integer().nullable(),
    aiProvider: p.string().length(50).nullable(),
    aiTokensUsed: p.integer().nullable(),
    /** Pipelines: index (0-based) of the step running or last run, and how many steps there are. */
    currentStep: p.integer().nullable(),
    totalSteps: p.integer().default(1),
    cancelledAt: p.datetime().nullable(),
    cancelledBy: p.string().length(255).nullable(),
    cancelReason: p.text().nullable(),
    /** When the retention sweep deletes the job with everything it produced (the organization's retention from submission). */
    expiresAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()).defaultRaw('now()'),
  },
  indexes: [
    { name: 'processing_jobs_organization_id_status_index', properties: ['organization', 'status'] },
    { name: 'processing_jobs_status_priority_index', properties: ['status', 'priority'] },
    { name: 'processing_jobs_expires_at_index', properties: ['expiresAt'] },
  ],
});

export type ProcessingJob = InferEntity<typeof ProcessingJobSchema>;
