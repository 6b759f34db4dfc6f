import { MediaFileSchema } from '../../entities/index.js';
import type { ApiDeps } from '../deps.js';
import type { MediaFileRow } from './media-service.js';
import { createdRange, cursorTime, keyset, pageOf, type PageRequest } from './listing.js';

export interface MediaFilters {
  mediaType?: string;
  status?: string;
  mimeType?: string;
  createdAfter?: string;
  createdBefore?: string;
}

/** GET /api/v1/media: one organization's live (not deleted, not expired) files, in keyset pages. */
export function createMediaListing(deps: ApiDeps) {
  const { orm, clock } = deps;
  return {
    async list(organizationId: string, f: MediaFilters, page: PageRequest): Promise<{ media: MediaFileRow[]; nextCursor: string | null }> {
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
      const em = orm.em.fork();
      const rows = await em.execute<{ id: string; c: string }[]>(
        `select m.id, ${cursorTime('m.created_at')} as c from ${MediaFileSchema.meta.tableName} m
          where ${[...where, ...ks.where].join(' and ')} ${ks.orderLimit}`,
        [...params, ...ks.params],
      );
      const { rows: kept, nextCursor } = pageOf(rows, page.limit);
      const found = await em.find(MediaFileSchema, { id: { $in: kept.map((r) => r.id) } });
      const byId = new Map(found.map((m) => [m.id, m]));
      return { media: kept.map((r) => byId.get(r.id)!).filter(Boolean), nextCursor };
    },
  };
}
