import type { Readable } from 'node:stream';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiKeySchema, MediaFileSchema, UserSchema } from '#entities/index.js';
import { NotFoundError, ServiceUnavailableError, ValidationError } from '#lib/errors.js';
import { createSignedLinks, type ReadLink } from '#lib/signed-links.js';
import { keyPermissions } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import type { ApiDeps } from '../deps.js';
import type { MediaFileRow, MediaService } from './media-service.js';

/** The longest a link minted with an API key lasts (the spec's createDownloadLink says so). */
export const KEY_LINK_MAX_TTL_SECONDS = 86_400;

/**
 * Time-limited download links: an HMAC-signed media id, expiry and issuer, served by the API itself
 * so the bytes pass through storage's ordinary read path (decrypted there when encrypted at rest).
 * A link lives no longer than what minted it: its organization, the user who is still a member,
 * or the API key that is still active, unexpired, allowed `media:read` and not rotated since.
 */
export function createDownloadLinkService(deps: ApiDeps, media: MediaService) {
  const { orm, config, clock } = deps;
  const links = createSignedLinks(config.intake.downloadLinkSecrets);

  /** The caller's longest allowed lifetime, and the binding its link is signed for. */
  async function issuerOf(em: EntityManager, principal: Principal): Promise<{ issuer: string; binding: string; maxTtl: number }> {
    const maxTtl = config.intake.downloadLinkMaxTtlSeconds;
    if (!principal.apiKeyId) return { issuer: `u-${principal.userId}`, binding: '', maxTtl };
    const key = await em.findOneOrFail(ApiKeySchema, { id: principal.apiKeyId }, { populate: ['keyHash'] });
    const untilKeyExpires = key.expiresAt ? Math.floor((key.expiresAt.getTime() - clock.now().getTime()) / 1000) : Infinity;
    return { issuer: `k-${key.id}`, binding: key.keyHash, maxTtl: Math.max(0, Math.min(maxTtl, KEY_LINK_MAX_TTL_SECONDS, untilKeyExpires)) };
  }

  /** Whether whoever minted the link could still mint it now (see the service's comment). */
  async function issuerStands(em: EntityManager, link: ReadLink, organizationId: string, now: Date): Promise<boolean> {
    const id = link.issuer.slice(2);
    if (link.issuer.startsWith('u-')) {
      const user = await em.findOne(UserSchema, { id, organization: organizationId, status: 'active' }, { fields: ['id'] });
      return user !== null && link.verify('');
    }
    const key = await em.findOne(ApiKeySchema, { id, organization: organizationId, status: 'active' }, { populate: ['keyHash', 'previousKeyHash', 'createdBy'] });
    if (!key || (key.expiresAt && key.expiresAt <= now)) return false;
    const creator = key.createdBy.getEntity();
    if (creator.status !== 'active' || !keyPermissions(key.permissions, creator.role).includes('media:read')) return false;
    // A link minted just before a rotation lasts as long as the old secret's grace period.
    const inGrace = key.previousKeyHash != null && key.previousKeyExpiresAt != null && key.previousKeyExpiresAt > now;
    return link.verify(key.keyHash) || (inGrace && link.verify(key.previousKeyHash!));
  }

  return {
    async create(principal: Principal, mediaId: string, expiresInSeconds: number): Promise<{ path: string; expiresAt: Date }> {
      const file = await media.get(principal.organizationId, mediaId);
      const { issuer, binding, maxTtl } = await issuerOf(orm.em.fork(), principal);
      if (expiresInSeconds > maxTtl) {
        const why = principal.apiKeyId ? `at most ${maxTtl} seconds for a link minted with this API key` : `at most ${maxTtl} seconds`;
        throw new ValidationError(`expires_in is ${why}`, { fields: [{ field: 'expires_in', location: 'body', message: `must be <= ${maxTtl}` }] });
      }
      if (!config.intake.downloadLinkSecrets.length) throw new ServiceUnavailableError('Download links are not configured (DOWNLOAD_LINK_SECRETS)');
      const expiresAt = new Date(clock.now().getTime() + expiresInSeconds * 1000);
      return { path: `/api/v1/shared/${links.sign({ mediaId: file.id, issuer, expiresAt }, binding)}`, expiresAt };
    },

    async open(token: string): Promise<{ media: MediaFileRow; body: Readable }> {
      const now = clock.now();
      const link = links.read(token, now);
      const em = orm.em.fork();
      const file =
        link &&
        (await em.findOne(MediaFileSchema, { id: link.mediaId, status: { $ne: 'deleted' }, expiresAt: { $gt: now }, organization: { deletedAt: null } }));
      if (!link || !file || !(await issuerStands(em, link, file.organization.id, now))) throw new NotFoundError('Download link');
      return { media: file, body: await media.open(file) };
    },
  };
}

export type DownloadLinkService = ReturnType<typeof createDownloadLinkService>;
