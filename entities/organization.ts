import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { credentialTrigger } from './credential-triggers.js';

/** Tenant. Everything else hangs off an organization (see DEFAULT_ORGANIZATION_ID in ./orm.js). */
export const OrganizationSchema = defineEntity({
  name: 'Organization',
  tableName: 'organizations',
  triggers: [credentialTrigger('organizations')],
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()).defaultRaw('gen_random_uuid()'),
    name: p.string().length(100),
    slug: p.string().length(100).unique('organizations_slug_unique'),
    email: p.string().length(255),
    settings: p.json<Record<string, unknown>>().columnType('jsonb').onCreate(() => ({})).defaultRaw(`'{}'`),
    metadata: p.json<Record<string, unknown>>().columnType('jsonb').onCreate(() => ({})).defaultRaw(`'{}'`),
    createdAt: p.datetime().onCreate(() => new Date()).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()).defaultRaw('now()'),
    deletedAt: p.datetime().nullable(),
  },
});

export type Organization = InferEntity<typeof OrganizationSchema>;
