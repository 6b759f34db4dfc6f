import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { OrganizationSchema } from './organization.js';
import { ProcessingJobSchema } from './processing-job.js';

/**
 * A named person of an organization whose voice diarized speakers are linked to. The optional voice
 * sample is an object in storage (`sampleKey`), stored encrypted like media. domain/speaker-store.ts
 * is the one module that reads and writes this table and `speaker_links`.
 */
export const SpeakerProfileSchema = defineEntity({
  name: 'SpeakerProfile',
  tableName: 'speaker_profiles',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    organization: p.manyToOne(OrganizationSchema).ref().deleteRule('cascade'),
    displayName: p.string().length(200),
    sampleKey: p.string().length(300).nullable(),
    sampleMimeType: p.string().length(100).nullable(),
    sampleSizeBytes: p.bigint('number').nullable(),
    sampleFilename: p.string().length(255).nullable(),
    sampleUploadedAt: p.datetime().nullable(),
    createdByUserId: p.uuid().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
  },
  indexes: [{ name: 'speaker_profiles_organization_id_index', properties: ['organization'] }],
});
export type SpeakerProfile = InferEntity<typeof SpeakerProfileSchema>;

export const SPEAKER_LINK_METHODS = ['manual'] as const;

/**
 * One diarized speaker (its id in a job's transcript: A, B, …) linked to a profile. The job's and
 * the profile's organization are the link's; deleting either deletes the link.
 */
export const SpeakerLinkSchema = defineEntity({
  name: 'SpeakerLink',
  tableName: 'speaker_links',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    organization: p.manyToOne(OrganizationSchema).ref().deleteRule('cascade'),
    job: p.manyToOne(ProcessingJobSchema).ref().deleteRule('cascade'),
    speakerLabel: p.string().length(64),
    profile: p.manyToOne(SpeakerProfileSchema).ref().deleteRule('cascade'),
    confidence: p.double().default(1).check('confidence::numeric >= 0 and confidence::numeric <= 1'),
    method: p.enum(SPEAKER_LINK_METHODS).default('manual'),
    linkedByUserId: p.uuid().nullable(),
    linkedAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
  },
  indexes: [{ name: 'speaker_links_profile_id_index', properties: ['profile'] }],
  uniques: [{ name: 'speaker_links_job_id_speaker_label_unique', properties: ['job', 'speakerLabel'] }],
});
export type SpeakerLink = InferEntity<typeof SpeakerLinkSchema>;
