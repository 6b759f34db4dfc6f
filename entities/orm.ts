import { MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { OrganizationSchema } from './organization.js';
import { MediaFileSchema } from './media-file.js';
import { ProcessingJobSchema } from './processing-job.js';
import { UserSchema } from './user.js';
import { RefreshTokenSchema } from './refresh-token.js';
import { ApiKeySchema } from './api-key.js';
import { UploadChunkSchema, UploadSessionSchema } from './upload-session.js';
import { JobEventSchema, JobStepSchema } from './job-step.js';
import { UsageRecordSchema } from './usage-record.js';
import { IdempotencyKeySchema } from './idempotency-key.js';
import { WebhookEndpointSchema } from './webhook-endpoint.js';
import { WebhookAttemptSchema, WebhookDeliverySchema } from './webhook-delivery.js';
import { MediaUploadSchema } from './media-upload.js';
import { MediaImportSchema } from './media-import.js';
import { MediaShareSchema } from './media-share.js';
import { OrganizationProviderKeySchema } from './organization-provider-key.js';
import { SpeakerLinkSchema, SpeakerProfileSchema } from './speaker.js';
import { Migration20261121000000 } from './migrations/Migration20261121000000.js';
import { Migration20261121010000 } from './migrations/Migration20261121010000.js';
import { Migration20261121020000 } from './migrations/Migration20261121020000.js';
import { Migration20261121030000 } from './migrations/Migration20261121030000.js';
import { Migration20261121040000 } from './migrations/Migration20261121040000.js';
import { Migration20261121050000 } from './migrations/Migration20261121050000.js';
import { Migration20261121060000 } from './migrations/Migration20261121060000.js';
import { Migration20261121070000 } from './migrations/Migration20261121070000.js';
import { Migration20261201100000 } from './migrations/Migration20261201100000.js';
import { Migration20261201203000 } from './migrations/Migration20261201203000.js';
import { Migration20261202000000 } from './migrations/Migration20261202000000.js';
import { Migration20261202001000 } from './migrations/Migration20261202001000.js';
import { Migration20261202010000 } from './migrations/Migration20261202010000.js';
import { Migration20261202011000 } from './migrations/Migration20261202011000.js';
import { Migration20261202012000 } from './migrations/Migration20261202012000.js';
import { Migration20261202020000 } from './migrations/Migration20261202020000.js';
import { Migration20261202021700 } from './migrations/Migration20261202021700.js';
import { Migration20261202040000 } from './migrations/Migration20261202040000.js';
import { Migration20261203010000 } from './migrations/Migration20261203010000.js';
import { Migration20261207000000 } from './migrations/Migration20261207000000.js';

/** The organization every request belongs to until identity/auth exists (seeded by the first migration). */
export const DEFAULT_ORGANIZATION_ID = '00000000-0000-4000-8000-000000000001';

/** Every entity, for MikroORM's `entities` option (also re-exported from ./index.js). */
export const entities = [OrganizationSchema, MediaFileSchema, ProcessingJobSchema, UserSchema, RefreshTokenSchema, ApiKeySchema, UsageRecordSchema, IdempotencyKeySchema, WebhookEndpointSchema, WebhookDeliverySchema, WebhookAttemptSchema, JobStepSchema, JobEventSchema, MediaUploadSchema, MediaImportSchema, MediaShareSchema, UploadSessionSchema, UploadChunkSchema, OrganizationProviderKeySchema, SpeakerProfileSchema, SpeakerLinkSchema] as const;

/** Every migration, in order. Add new ones here (statically imported: no filesystem globbing). */
export const migrationsList = [
  { name: 'Migration20261121000000', class: Migration20261121000000 },
  { name: 'Migration20261121010000', class: Migration20261121010000 },
  { name: 'Migration20261121020000', class: Migration20261121020000 },
  { name: 'Migration20261121030000', class: Migration20261121030000 },
  { name: 'Migration20261121040000', class: Migration20261121040000 },
  { name: 'Migration20261121050000', class: Migration20261121050000 },
  { name: 'Migration20261121060000', class: Migration20261121060000 },
  { name: 'Migration20261121070000', class: Migration20261121070000 },
  { name: 'Migration20261201100000', class: Migration20261201100000 },
  { name: 'Migration20261201203000', class: Migration20261201203000 },
  { name: 'Migration20261202000000', class: Migration20261202000000 },
  { name: 'Migration20261202001000', class: Migration20261202001000 },
  { name: 'Migration20261202010000', class: Migration20261202010000 },
  { name: 'Migration20261202011000', class: Migration20261202011000 },
  { name: 'Migration20261202012000', class: Migration20261202012000 },
  { name: 'Migration20261202020000', class: Migration20261202020000 },
  { name: 'Migration20261202021700', class: Migration20261202021700 },
  { name: 'Migration20261202040000', class: Migration20261202040000 },
  { name: 'Migration20261203010000', class: Migration20261203010000 },
  { name: 'Migration20261207000000', class: Migration20261207000000 },
];

export interface CreateOrmOptions {
  /** postgresql:// connection URL */
  url: string;
  /** Max pool size (default 10). */
  poolMax?: number;
  /** Log SQL queries. */
  debug?: boolean;
}

/**
 * Boots MikroORM on PostgreSQL with an explicit entity and migration list: nothing is discovered from the
 * filesystem, so this works identically from tsx, jest and compiled dist. Close with `await orm.close()`.
 */
export async function createOrm(opts: CreateOrmOptions): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl: opts.url,
    entities: [...entities],
    pool: { min: 0, max: opts.poolMax ?? 10 },
    debug: opts.debug ?? false,
    extensions: [Migrator],
    migrations: {
      migrationsList,
      // No snapshot file: migrations are hand-written and nothing may be written next to the code.
      snapshot: false,
      snapshotOnMigrate: false,
      silent: true,
      transactional: true,
      allOrNothing: true,
    },
  });
}
