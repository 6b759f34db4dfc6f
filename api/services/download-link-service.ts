import type { Readable } from 'node:stream';
import { MediaFileSchema } from '../../entities/index.js';
import { NotFoundError, ServiceUnavailableError, ValidationError } from '../../lib/errors.js';
import { createSignedLinks } from '../../lib/signed-links.js';
import type { Principal } from '../auth/principal.js';
import type { ApiDeps } from '../deps.js';
import type { MediaFileRow, MediaService } from './media-service.js';

/**
 * Time-limited download links: an HMAC-signed media id and expiry, served by the API itself so
 * the bytes pass through storage's ordinary read path (decrypted there when encrypted at rest).
 */
export function createDownloadLinkService(deps: ApiDeps, media: MediaService) {
  const { orm, config, clock } = deps;
  const links = createSignedLinks(config.intake.downloadLinkSecrets);
  const maxTtl = config.intake.downloadLinkMaxTtlSeconds;

  return {
    async create(principal: Principal, mediaId: string, expiresInSeconds: number): Promise<{ path: string; expiresAt: Date }> {
      if (expiresInSeconds > maxTtl) {
        throw new ValidationError(`expires_in is at most ${maxTtl} seconds`, { fields: [{ field: 'expires_in', location: 'body', message: `must be <= ${maxTtl}` }] });
      }
      const file = await media.get(principal.organizationId, mediaId);
      if (!config.intake.downloadLinkSecrets.length) throw new ServiceUnavailableError('Download links are not configured (DOWNLOAD_LINK_SECRETS)');
      const expiresAt = new Date(clock.now().getTime() + expiresInSeconds * 1000);
      return { path: `/api/v1/shared/${links.sign(file.id, expiresAt)}`, expiresAt };
    },

    async open(token: string): Promise<{ media: MediaFileRow; body: Readable }> {
      const now = clock.now();
      const mediaId = links.verify(token, now);
      const file = mediaId && (await orm.em.fork().findOne(MediaFileSchema, { id: mediaId, status: { $ne: 'deleted' }, expiresAt: { $gt: now } }));
      if (!file) throw new NotFoundError('Download link');
      return { media: file, body: await media.open(file) };
    },
  };
}

export type DownloadLinkService = ReturnType<typeof createDownloadLinkService>;
