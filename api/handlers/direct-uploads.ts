import { reply, type Route } from '../handler.js';
import { toMediaFile } from '../mappers.js';
import { jsonBody } from '../middleware/body.js';
import type { Services } from '../services/index.js';

export const presignMediaUpload = (s: Services, baseUrl: string, bodyLimitKb: number): Route<'presignMediaUpload'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { body }) {
    const principal = ctx.state.principal!;
    // The storage quota is taken when the pending upload is recorded (presign), not here.
    const limits = await s.quotas.limits(principal.organizationId);
    const { upload, url, fields } = await s.directUploads.presign(
      principal,
      { filename: body.filename, sizeBytes: body.size_bytes, contentType: body.content_type, sha256: body.sha256, method: body.method ?? 'PUT' },
      limits,
    );
    reply(ctx, 'presignMediaUpload', 201, {
      id: upload.id,
      method: upload.method,
      url,
      fields,
      expires_at: upload.expiresAt.toISOString(),
      complete_url: `${baseUrl}/api/v1/media/${upload.id}/complete`,
    });
  },
});

export const completeMediaUpload = (s: Services, baseUrl: string): Route<'completeMediaUpload'> => ({
  async handle(ctx, { path }) {
    // Its bytes were reserved against the storage quota when it was presigned.
    const limits = await s.quotas.limits(ctx.state.organizationId);
    const media = await s.directUploads.complete(ctx.state.organizationId, path.id, limits);
    ctx.set('Location', `${baseUrl}/api/v1/media/${media.id}`);
    reply(ctx, 'completeMediaUpload', 200, toMediaFile(media, baseUrl));
  },
});
