import { reply, type Route } from '../handler.js';
import { toJob, toMediaFile } from '../mappers.js';
import type { Services } from '../services/index.js';

// Defaults (order desc, limit 20) are applied by request validation from the spec.
const pageOf = (q: { order?: 'asc' | 'desc'; limit?: number; cursor?: string }) => ({ order: q.order ?? 'desc', limit: q.limit ?? 20, cursor: q.cursor });

export const listJobs = (s: Services, baseUrl: string): Route<'listJobs'> => ({
  async handle(ctx, { query }) {
    const { jobs, nextCursor } = await s.jobList.list(
      ctx.state.organizationId,
      {
        status: query.status,
        actionId: query.action_id,
        mediaType: query.media_type,
        mediaId: query.media_id,
        createdAfter: query.created_after,
        createdBefore: query.created_before,
      },
      pageOf(query),
    );
    reply(ctx, 'listJobs', 200, { data: jobs.map((j) => toJob(j, baseUrl)), next_cursor: nextCursor });
  },
});

export const listMedia = (s: Services, baseUrl: string): Route<'listMedia'> => ({
  async handle(ctx, { query }) {
    const { media, nextCursor } = await s.mediaList.list(
      ctx.state.organizationId,
      {
        mediaType: query.media_type,
        status: query.status,
        mimeType: query.mime_type,
        createdAfter: query.created_after,
        createdBefore: query.created_before,
      },
      pageOf(query),
    );
    reply(ctx, 'listMedia', 200, { data: media.map((m) => toMediaFile(m, baseUrl)), next_cursor: nextCursor });
  },
});
