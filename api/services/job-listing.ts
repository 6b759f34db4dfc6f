import { MediaFileSchema, ProcessingJobSchema } from '../../entities/index.js';
import type { ApiDeps } from '../deps.js';
import type { JobRow } from './job-service.js';
import { createdRange, cursorTime, keyset, pageOf, type PageRequest } from './listing.js';

export interface JobFilters {
  status?: string;
  actionId?: string;
  mediaType?: string;
  mediaId?: string;
  createdAfter?: string;
  createdBefore?: string;
}

/** GET /api/v1/jobs: one organization's jobs, filtered, in keyset pages. */
export function createJobListing(deps: ApiDeps) {
  const { orm } = deps;
  return {
    async list(organizationId: string, f: JobFilters, page: PageRequest): Promise<{ jobs: JobRow[]; nextCursor: string | null }> {
      const where = ['j.organization_id = ?'];
      const params: unknown[] = [organizationId];
      const eq = (column: string, value: string | undefined) => {
        if (value === undefined) return;
        where.push(`${column} = ?`);
        params.push(value);
      };
      eq('j.status', f.status);
      eq('j.action_id', f.actionId);
      eq('m.media_type', f.mediaType);
      eq('j.input_media_id', f.mediaId);
      createdRange('j', f, where, params);
      const ks = keyset('j', page);
      const em = orm.em.fork();
      const rows = await em.execute<{ id: string; c: string }[]>(
        `select j.id, ${cursorTime('j.created_at')} as c
           from ${ProcessingJobSchema.meta.tableName} j join ${MediaFileSchema.meta.tableName} m on m.id = j.input_media_id
          where ${[...where, ...ks.where].join(' and ')} ${ks.orderLimit}`,
        [...params, ...ks.params],
      );
      const { rows: kept, nextCursor } = pageOf(rows, page.limit);
      const found = await em.find(ProcessingJobSchema, { id: { $in: kept.map((r) => r.id) } }, { populate: ['resultMedia'] });
      const byId = new Map(found.map((j) => [j.id, j]));
      return { jobs: kept.map((r) => byId.get(r.id)!).filter(Boolean), nextCursor };
    },
  };
}
