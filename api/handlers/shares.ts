import type { MediaShare } from '#entities/index.js';
import type { components } from '../generated/openapi.js';
import { reply, type Route } from '../handler.js';
import { jsonBody } from '../middleware/body.js';
import type { Services } from '../services/index.js';

export const createMediaShare = (s: Services, bodyLimitKb: number): Route<'createMediaShare'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { path, body }) {
    const { share, created } = await s.shares.grant(ctx.state.principal!, path.id, {
      userId: body.user_id,
      organizationId: body.organization_id,
      expiresAt: body.expires_at ? new Date(body.expires_at) : undefined,
    });
    reply(ctx, 'createMediaShare', created ? 201 : 200, toMediaShare(share));
  },
});

export const listMediaShares = (s: Services): Route<'listMediaShares'> => ({
  async handle(ctx, { path }) {
    reply(ctx, 'listMediaShares', 200, { shares: (await s.shares.list(ctx.state.principal!, path.id)).map(toMediaShare) });
  },
});

export const deleteMediaShare = (s: Services): Route<'deleteMediaShare'> => ({
  async handle(ctx, { path }) {
    await s.shares.revoke(ctx.state.principal!, path.id, path.shareId);
    ctx.status = 204;
  },
});

function toMediaShare(share: MediaShare): components['schemas']['MediaShare'] {
  return {
    id: share.id,
    media_id: share.media.id,
    ...(share.granteeUserId ? { user_id: share.granteeUserId } : {}),
    ...(share.granteeOrganizationId ? { organization_id: share.granteeOrganizationId } : {}),
    expires_at: share.expiresAt ? share.expiresAt.toISOString() : null,
    created_at: share.createdAt.toISOString(),
  };
}
