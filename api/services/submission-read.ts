import { MediaFileSchema, OrganizationProviderKeySchema, OrganizationSchema, type MediaFile } from '../../entities/index.js';
import type { SealedKey } from './provider-keys.js';
import type { ApiDeps } from '../deps.js';

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
// trip on one pool connection: side by side they held three connections per submission.
const SQL = `
select
  (select json_build_object('id', m."id", 'storagePath', m."storage_path", 'mimeType', m."mime_type",
          'originalFilename', m."original_filename", 'fileSizeBytes', m."file_size_bytes", 'mediaType', m."media_type",
          'metadata', m."metadata")
     from "${MediaFileSchema.meta.tableName}" m
    where m."id" = $2 and m."organization_id" = $1 and m."status" <> 'deleted' and m."expires_at" > $3) as "input",
  (select json_build_object('settings', o."settings") from "${OrganizationSchema.meta.tableName}" o where o."id" = $1) as "org",
  (select coalesce(json_agg(json_build_object('provider', k."provider", 'keyId', k."key_id", 'ciphertext', k."ciphertext")), '[]'::json)
     from "${OrganizationProviderKeySchema.meta.tableName}" k where k."organization_id" = $1) as "keys"`;
const STATEMENT = 'mediaflow_submission_read';

export function createSubmissionRead(deps: Pick<ApiDeps, 'orm' | 'clock'>) {
  return async function read(organizationId: string, mediaId: string): Promise<SubmissionContext> {
    const pool = await deps.orm.em.getConnection().getNativeClient();
    const { rows } = await pool.query<Row>({ name: STATEMENT, text: SQL, values: [organizationId, mediaId, deps.clock.now()] });
    const row = rows[0]!;
    return {
      input: row.input ? { ...row.input, fileSizeBytes: Number(row.input.fileSizeBytes) } : null,
      settings: row.org?.settings ?? null,
      organizationExists: row.org !== null,
      keys: row.keys,
    };
  };
}
