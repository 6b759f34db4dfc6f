import type { MediaImport } from '#entities/index.js';
import type { components } from '../generated/openapi.js';
import { reply, type Route } from '../handler.js';
import { jsonBody } from '../middleware/body.js';
import { providerKeysOf } from './provider-key-headers.js';
import type { Services } from '../services/index.js';

export const importMedia = (s: Services, baseUrl: string, bodyLimitKb: number): Route<'importMedia'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { body }) {
    const principal = ctx.state.principal!;
    const limits = await s.quotas.forUpload(principal.organizationId);
    if (body.process) await s.quotas.assertCanSubmitJob(principal.organizationId);
    const record = await s.imports.submit(
      principal,
      {
        url: body.url,
        filename: body.filename,
        process: body.process ? { actionId: body.process.action_id, parameters: body.process.parameters ?? {} } : undefined,
        providerKeys: providerKeysOf(ctx),
      },
      limits,
    );
    ctx.set('Location', `${baseUrl}/api/v1/media/imports/${record.id}`);
    reply(ctx, 'importMedia', 202, toMediaImport(record));
  },
});

export const getMediaImport = (s: Services): Route<'getMediaImport'> => ({
  async handle(ctx, { path }) {
    reply(ctx, 'getMediaImport', 200, toMediaImport(await s.imports.get(ctx.state.organizationId, path.id)));
  },
});

function toMediaImport(r: MediaImport): components['schemas']['MediaImport'] {
  return {
    id: r.id,
    status: r.status,
    url: r.url,
    filename: r.filename ?? null,
    media_id: r.mediaId ?? null,
    job_id: r.jobId ?? null,
    ...(r.status === 'failed' ? { error: { code: r.errorCode ?? 'IMPORT_FAILED', message: r.errorMessage ?? '' } } : {}),
    created_at: r.createdAt.toISOString(),
    completed_at: r.completedAt ? r.completedAt.toISOString() : null,
  };
}
