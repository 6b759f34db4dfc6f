import { MediaFileSchema, type MediaFile } from '#entities/index.js';
import type { ApiDeps } from '../deps.js';
import { createdRange, cursorTime, keyset, numbered, pageOf, type PageRequest } from './listing.js';

export interface MediaFilters {
  mediaType?: string;
  status?: string;
  mimeType?: string;
  createdAfter?: string;
  createdBefore?: string;
}

/** A file's fields a list reply shows. */
export type MediaListItem = Pick<
  MediaFile,
  'id' | 'originalFilename' | 'mimeType' | 'mediaType' | 'fileSizeBytes' | 'checksumMd5' | 'checksumSha256' | 'status' | 'metadata' | 'createdAt' | 'expiresAt' | 'thumbnailStatus'
>;

interface ListRow {
  id: string;
  c: string;
  original_filename: string;
  mime_type: string;
  media_type: MediaFile['mediaType'];
  file_size_bytes: string | number;
  checksum_md5: string;
  checksum_sha256: string;
  status: MediaFile['status'];
  metadata: Record<string, unknown>;
  created_at: string | Date;
  expires_at: string | Date;
  thumbnail_status: MediaFile['thumbnailStatus'];
}

/**
 * GET /api/v1/media: one organization's live (not deleted, not expired) files, in keyset pages.
 * One statement on the ORM's pg pool, the page's columns only: hydrating a page of 50 entities
 * cost the API about 5 ms of CPU per request.
 */
export function createMediaListing(deps: ApiDeps) {
  const { orm, clock } = deps;
  return {
    async list(organizationId: string, f: MediaFilters, page: PageRequest): Promise<{ media: MediaListItem[]; nextCursor: string | null }> {
      const where = [`m.organization_id = ?`, `m.status <> 'deleted'`, `m.expires_at > ?`];
      const params: unknown[] = [organizationId, clock.now()];
      const eq = (column: string, value: string | undefined) => {
        if (value === undefined) return;
        where.push(`${column} = ?`);
        params.push(value);
      };
      eq('m.media_type', f.mediaType);
      eq('m.status', f.status);
      eq('m.mime_type', f.mimeType);
      createdRange('m', f, where, params);
      const ks = keyset('m', page);
      const pool = await orm.em.getConnection().getNativeClient();
      const { rows } = await pool.query<ListRow>(
        numbered(`select m.id, ${cursorTime('m.created_at')} as c, m.original_filename, m.mime_type, m.media_type, m.file_size_bytes,
                m.checksum_md5, m.checksum_sha256, m.status, m.metadata, m.created_at, m.expires_at, m.thumbnail_status
           from ${MediaFileSchema.meta.tableName} m
          where ${[...where, ...ks.where].join(' and ')} ${ks.orderLimit}`),
        [...params, ...ks.params],
      );
      const { rows: kept, nextCursor } = pageOf(rows, page.limit);
      return {
        media: kept.map((r) => ({
          id: r.id,
          originalFilename: r.original_filename,
          mimeType: r.mime_type,
          mediaType: r.media_type,
          fileSizeBytes: Number(r.file_size_bytes),
          checksumMd5: r.checksum_md5,
          checksumSha256: r.checksum_sha256,
          status: r.status,
          metadata: r.metadata,
          createdAt: new Date(r.created_at),
          expiresAt: new Date(r.expires_at),
          thumbnailStatus: r.thumbnail_status,
        })),
        nextCursor,
      };
    },
  };
}
