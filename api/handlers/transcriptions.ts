import { reply, type Route } from '../handler.js';
import type { Services } from '../services/index.js';

export const getTranscription = (s: Services): Route<'getTranscription'> => ({
  async handle(ctx, { path }) {
    const organizationId = await s.shares.jobScope(ctx.state.principal!, path.job_id);
    reply(ctx, 'getTranscription', 200, await s.transcriptions.get(organizationId, path.job_id));
  },
});
