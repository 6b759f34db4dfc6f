import { reply, type Route } from '../handler.js';
import { jsonBody } from '../middleware/body.js';
import type { Services } from '../services/index.js';

export const getTranscription = (s: Services): Route<'getTranscription'> => ({
  async handle(ctx, { path }) {
    const organizationId = await s.shares.jobScope(ctx.state.principal!, path.job_id);
    reply(ctx, 'getTranscription', 200, await s.transcriptions.get(organizationId, path.job_id));
  },
});

export const searchTranscripts = (s: Services, bodyLimitKb: number): Route<'searchTranscripts'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { body }) {
    const limit = body.limit ?? 20;
    const offset = body.offset ?? 0;
    const found = await s.search.search(ctx.state.organizationId, { query: body.query, filters: body.filters, limit, offset });
    reply(ctx, 'searchTranscripts', 200, {
      results: found.results,
      total: found.total,
      limit,
      offset,
      query_time: `${(found.queryTimeMs / 1000).toFixed(3)}s`,
      query_time_ms: found.queryTimeMs,
    });
  },
});
