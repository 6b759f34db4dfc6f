import { reply, type Route } from '../handler.js';
import { toJob } from '../mappers.js';
import type { Services } from '../services/index.js';
import { jsonBody } from '../middleware/body.js';

export const submitJob = (s: Services, baseUrl: string, bodyLimitKb: number): Route<'submitJob'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { body }) {
    const job = await s.jobs.submit(ctx.state.organizationId, {
      mediaId: body.media_id,
      actionId: body.action_id,
      parameters: body.parameters ?? {},
    });
    ctx.set('Location', `${baseUrl}/api/v1/jobs/${job.id}`);
    reply(ctx, 'submitJob', 202, toJob(job, baseUrl));
  },
});

export const getJob = (s: Services, baseUrl: string): Route<'getJob'> => ({
  async handle(ctx, { path }) {
    reply(ctx, 'getJob', 200, toJob(await s.jobs.get(ctx.state.organizationId, path.id), baseUrl));
  },
});

export const getJobResult = (s: Services): Route<'getJobResult'> => ({
  async handle(ctx, { path }) {
    const result = await s.jobs.result(ctx.state.organizationId, path.id);
    if (result.kind === 'json') {
      ctx.body = result.data;
      return;
    }
    ctx.attachment(result.filename);
    ctx.type = result.mimeType;
    ctx.length = result.size;
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = result.stream;
  },
});
