import { MediaFileSchema, OrganizationProviderKeySchema, OrganizationSchema, type MediaFile } from '#entities/index.js';
import type { SealedKey } from './provider-keys.js';
import type { ApiDeps } from '../deps.js';
import { batchLoader, byOrdinality } from '#lib/batch-loader.js';
import { isUuid } from '#lib/tokens.js';

/** The input file's fields a submission uses. */
export type SubmissionInput = Pick<MediaFile, 'id' | 'storagePath' | 'mimeType' | 'originalFilename' | 'fileSizeBytes' | 'mediaType' | 'metadata'>;

export interface SubmissionContext {
  /** The organization's live (not deleted, not expired) file, or null. */
  input: SubmissionInput | null;
  /** The organization's settings (quotas), or null when there is no such organization. */
  settings: Record<string, unknown> | null;
  organizationExists: boolean;
  /** Its stored provider keys, still sealed. */
  keys: SealedKey[];
}

interface Row {
  input: (Omit<SubmissionInput, 'fileSizeBytes'> & { fileSizeBytes: number | string }) | null;
  org: { settings: Record<string, unknown> | null } | null;
  keys: SealedKey[];
}

// A submission's three reads (its input, the organization's quotas, its stored keys) in one round
// trip on one pool connection: side by side they held three connections per submission. Reads of
// submissions made together go as one statement (lib/batch-loader.ts), each row for its own
// organization and file.
const SQL = `
select q."k", r.*
from unnest($1::uuid[], $2::uuid[]) with ordinality as q("org_id", "media_id", "k")
cross join lateral (select
  (select json_build_object('id', m."id", 'storagePath', m."storage_path", 'mimeType', m."mime_type",
          'originalFilename', m."original_filename", 'fileSizeBytes', m."file_size_bytes", 'mediaType', m."media_type",
          'metadata', m."metadata")
     from "${MediaFileSchema.meta.tableName}" m
    where m."id" = q."media_id" and m."organization_id" = q."org_id" and m."status" <> 'deleted' and m."expires_at" > $3) as "input",
  (select json_build_object('settings', o."settings") from "${OrganizationSchema.meta.tableName}" o where o."id" = q."org_id") as "org",
  (select coalesce(json_agg(json_build_object('provider', k."provider", 'keyId', k."key_id", 'ciphertext', k."ciphertext")), '[]'::json)
     from "${OrganizationProviderKeySchema.meta.tableName}" k where k."organization_id" = q."org_id") as "keys") r`;
const STATEMENT = 'mediaflow_submission_read_batch';
const BATCH = { maxBatch: 100, maxInFlight: 3 };

export function createSubmissionRead(deps: Pick<ApiDeps, 'orm' | 'clock'>) {
  const load = batchLoader<{ organizationId: string; mediaId: string | null }, Row>(async (keys) => {
    const pool = await deps.orm.em.getConnection().getNativeClient();
    const { rows } = await pool.query<Row & { k: string }>({
      name: STATEMENT,
      text: SQL,
      values: [keys.map((k) => k.organizationId), keys.map((k) => k.mediaId), deps.clock.now()],
    });
    return byOrdinality(rows, keys.length);
  }, BATCH);

  return async function read(organizationId: string, mediaId: string): Promise<SubmissionContext> {
    // A media id that is no uuid names no file (and must not fail the reads batched with it).
    const row = (await load({ organizationId, mediaId: isUuid(mediaId) ? mediaId : null }))!;
    return {
      input: row.input ? { ...row.input, fileSizeBytes: Number(row.input.fileSizeBytes) } : null,
      settings: row.org?.settings ?? null,
      organizationExists: row.org !== null,
      keys: row.keys,
    };
  };
}
