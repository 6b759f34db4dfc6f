import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { OrganizationSchema } from './organization.js';

export const IMPORT_STATUSES = ['pending', 'running', 'completed', 'failed'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/**
 * An import of a file from a URL, run by the `importMedia` workflow. The imported media file gets
 * this import's id; `process` is the job to start on it once imported, `jobId` that job.
 */
export const MediaImportSchema = defineEntity({
  name: 'MediaImport',
  tableName: 'media_imports',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    organization: p.manyToOne(OrganizationSchema).ref(),
    userId: p.uuid().nullable(),
    apiKeyId: p.uuid().nullable(),
    url: p.text(),
    filename: p.string().length(255).nullable(),
    process: p.json<{ action_id: string; parameters: Record<string, unknown> }>().columnType('jsonb').nullable(),
    status: p.enum(IMPORT_STATUSES).default('pending'),
    mediaId: p.uuid().nullable(),
    jobId: p.uuid().nullable(),
    errorCode: p.string().length(50).nullable(),
    errorMessage: p.text().nullable(),
    workflowId: p.string().length(200).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()).defaultRaw('now()'),
    completedAt: p.datetime().nullable(),
  },
  indexes: [{ name: 'media_imports_organization_id_index', properties: ['organization'] }],
});

export type MediaImport = InferEntity<typeof MediaImportSchema>;
