import { ValidationError } from '#lib/errors.js';
import { isTranscript, renderTranscript } from '../services/transcript-export.js';
import { withSpeakerNames } from '../services/transcription-service.js';
import { reply, type Route } from '../handler.js';
import { providerKeysOf } from './provider-key-headers.js';
import { toJob } from '../mappers.js';
import type { Services } from '../services/index.js';
import { jsonBody } from '../middleware/body.js';
import { canonicalJson } from '../middleware/idempotency.js';

export const submitJob = (s: Services, baseUrl: string, bodyLimitKb: number): Route<'submitJob'> => ({
  before: [jsonBody(bodyLimitKb), s.idempotency({ operation: 'submitJob', fingerprintBefore: (ctx) => canonicalJson(ctx.request.body) })],
  async handle(ctx, { body }) {
    const principal = ctx.state.principal!;
    const job = await s.jobs.submit(ctx.state.organizationId, {
      userId: principal.userId,
      apiKeyId: principal.apiKeyId,
      mediaId: body.media_id,
      actionId: body.action_id,
      parameters: body.parameters ?? {},
      ...(body.steps ? { steps: body.steps.map((st) => ({ actionId: st.action_id, parameters: st.parameters ?? {} })) } : {}),
      providerKeys: providerKeysOf(ctx),
    });
    ctx.state.jobId = job.id;
    ctx.state.workflowId = job.workflowId ?? undefined;
    ctx.set('Location', `${baseUrl}/api/v1/jobs/${job.id}`);
    reply(ctx, 'submitJob', 202, toJob(job, baseUrl));
  },
});

export const getJob = (s: Services, baseUrl: string): Route<'getJob'> => ({
  async handle(ctx, { path }) {
    const { job, steps } = await s.jobView(ctx.state.principal!, path.id);
    reply(ctx, 'getJob', 200, toJob(job, baseUrl, steps));
  },
});

export const getJobResult = (s: Services): Route<'getJobResult'> => ({
  async handle(ctx, { path, query }) {
    const organizationId = await s.shares.jobScope(ctx.state.principal!, path.id);
    const result = await s.jobs.result(organizationId, path.id);
    if (query.format) {
      if (result.kind !== 'json' || !isTranscript(result.data)) {
        throw new ValidationError('format applies to transcription results only', {
          fields: [{ field: 'format', location: 'query', message: 'this job has no transcript to export' }],
        });
      }
      // Speakers linked to voice profiles are exported under the profiles' names.
      const out = renderTranscript(withSpeakerNames(result.data, await s.speakers.names(organizationId, path.id)), query.format);
      ctx.attachment(`${path.id}.${out.extension}`);
      ctx.type = out.contentType;
      ctx.body = out.body;
      return;
    }
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
