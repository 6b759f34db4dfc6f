import { MediaFileSchema, ProcessingJobSchema } from '#entities/index.js';
import type { ApiDeps } from '../deps.js';
import { toJobFields, type JobColumns } from '#domain/job-row.js';
import { JOB_COLUMNS, type JobFields } from './job-view.js';
import { createdRange, cursorTime, keyset, numbered, pageOf, type PageRequest } from './listing.js';

export interface JobFilters {
  status?: string;
  actionId?: string;
  mediaType?: string;
  mediaId?: string;
  createdAfter?: string;
  createdBefore?: string;
}

/**
 * GET /api/v1/jobs: one organization's jobs, filtered, in keyset pages. One statement on the
 * ORM's pg pool with the columns a reply shows, as GET /jobs/{id} (hydrating a page of entities
 * cost the API several milliseconds per request).
 */
export function createJobListing(deps: ApiDeps) {
  const { orm } = deps;
  return {
    async list(organizationId: string, f: JobFilters, page: PageRequest): Promise<{ jobs: JobFields[]; nextCursor: string | null }> {
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
      const pool = await orm.em.getConnection().getNativeClient();
      const { rows } = await pool.query<JobColumns & { c: string }>(
        numbered(`select ${JOB_COLUMNS}, ${cursorTime('j.created_at')} as c
           from ${ProcessingJobSchema.meta.tableName} j join ${MediaFileSchema.meta.tableName} m on m.id = j.input_media_id
          where ${[...where, ...ks.where].join(' and ')} ${ks.orderLimit}`),
        [...params, ...ks.params],
      );
      const { rows: kept, nextCursor } = pageOf(rows, page.limit);
      return { jobs: kept.map(toJobFields), nextCursor };
    },
  };
}
