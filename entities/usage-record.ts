import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { OrganizationSchema } from './organization.js';

/** UPLOAD, DOWNLOAD and API_CALL rows are requests; PROCESS rows are job steps. */
export const USAGE_ACTION_TYPES = ['UPLOAD', 'PROCESS', 'DOWNLOAD', 'API_CALL'] as const;
export type UsageActionType = (typeof USAGE_ACTION_TYPES)[number];

/**
 * One metered event (spec §4 UsageRecord, §12): a request, or one step of a job. Step rows are
 * unique per (job_id, step_index), so bookkeeping that runs again inserts nothing.
 * user/api key/job ids are plain columns: usage outlives the users, keys and jobs it names.
 */
export const UsageRecordSchema = defineEntity({
  name: 'UsageRecord',
  tableName: 'usage_records',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    organization: p.manyToOne(OrganizationSchema).ref(),
    userId: p.uuid().nullable(),
    apiKeyId: p.uuid().nullable(),
    jobId: p.uuid().nullable(),
    stepIndex: p.integer().nullable(),
    actionType: p.enum(USAGE_ACTION_TYPES),
    actionId: p.string().length(50).nullable(),
    mediaType: p.string().length(20).nullable(),
    /** Uploads: the stored file's size; steps: the step's input file size. */
    fileSizeBytes: p.bigint('number').nullable(),
    /** Requests: request and response body bytes; steps: input and output bytes. */
    bytesIn: p.bigint('number').default(0),
    bytesOut: p.bigint('number').default(0),
    processingTimeMs: p.integer().nullable(),
    aiProvider: p.string().length(50).nullable(),
    aiTokensUsed: p.integer().nullable(),
    requestIp: p.string().length(45).nullable(),
    userAgent: p.string().length(500).nullable(),
    endpoint: p.string().length(200).nullable(),
    httpMethod: p.string().length(10).nullable(),
    responseStatus: p.integer().nullable(),
    creditsUsed: p.decimal('number').precision(10).scale(4).default(0),
    timestamp: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
  },
  uniques: [{ name: 'usage_records_job_id_step_index_unique', properties: ['jobId', 'stepIndex'] }],
  indexes: [
    { name: 'usage_records_organization_id_timestamp_index', properties: ['organization', 'timestamp'] },
    { name: 'usage_records_api_key_id_timestamp_index', properties: ['apiKeyId', 'timestamp'] },
  ],
});

export type UsageRecord = InferEntity<typeof UsageRecordSchema>;
