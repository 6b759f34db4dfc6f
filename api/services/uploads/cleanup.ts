import type { MikroORM } from '@mikro-orm/postgresql';
import { UploadChunkSchema, UploadSessionSchema } from '#entities/index.js';
import type { Config } from '#lib/config.js';
import type { Logger } from '#lib/logger.js';
import { createTempStore, tusKey, UPLOADS_PREFIX, type TempStore } from './temp-store.js';

export interface CleanupDeps {
  orm: MikroORM;
  config: Config;
  temp?: TempStore;
  now?: () => Date;
}

/**
 * Expires incomplete uploads (tus and chunked) past their expiry: their parts are removed and
 * the session becomes `expired`. Then sweeps `uploads/` for anything older than the expiry that
 * no session accounts for (a crash between writing a part and recording it; MinIO lists unfinished
 * multipart uploads by exact key only, so there its own stale-upload expiry, 24 h by default, covers
 * those). Finished sessions
 * are forgotten after another expiry period. Safe to run from several instances at once.
 * (@tus/s3-store's own deleteExpired is not used: it would abort every multipart upload of the
 * bucket, not just the ones under `uploads/`.)
 */
export async function cleanUpExpiredUploads(deps: CleanupDeps): Promise<{ expired: number; swept: number }> {
  const now = deps.now?.() ?? new Date();
  const temp = deps.temp ?? createTempStore(deps.config.s3);
  const em = deps.orm.em.fork();
  const stale = await em.find(UploadSessionSchema, { status: { $in: ['receiving', 'finalizing'] }, expiresAt: { $lt: now } });
  for (const s of stale) {
    if (s.kind === 'tus') {
      const key = tusKey(s.id);
      await temp.remove([key, `${key}.info`, `${key}.part`]);
      for (const m of (await temp.list(key)).multipart.filter((u) => u.key === key)) await temp.abort(m.key, m.uploadId);
    }
    if (s.storageKey && s.multipartUploadId) await temp.abort(s.storageKey, s.multipartUploadId);
    if (s.storageKey) await temp.remove([s.storageKey]);
    await em.nativeDelete(UploadChunkSchema, { session: s.id });
    await em.nativeUpdate(UploadSessionSchema, { id: s.id }, { status: 'expired' });
  }
  const horizon = new Date(now.getTime() - deps.config.uploads.expiryMs);
  const { objects, multipart } = await temp.list(UPLOADS_PREFIX);
  const oldObjects = objects.filter((o) => o.modified < horizon).map((o) => o.key);
  const oldMultipart = multipart.filter((m) => m.initiated < horizon);
  for (let i = 0; i < oldObjects.length; i += 1000) await temp.remove(oldObjects.slice(i, i + 1000));
  for (const m of oldMultipart) await temp.abort(m.key, m.uploadId);
  await em.nativeDelete(UploadSessionSchema, { status: { $in: ['completed', 'failed', 'expired'] }, expiresAt: { $lt: horizon } });
  if (!deps.temp) temp.close();
  return { expired: stale.length, swept: oldObjects.length + oldMultipart.length };
}

/** Runs cleanUpExpiredUploads every `config.uploads.cleanupIntervalMs`; returns the stop function. */
export function scheduleUploadCleanup(deps: CleanupDeps & { logger: Logger }): () => void {
  const every = deps.config.uploads.cleanupIntervalMs;
  if (!every) return () => undefined;
  const temp = deps.temp ?? createTempStore(deps.config.s3);
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    cleanUpExpiredUploads({ ...deps, temp })
      .then((r) => (r.expired || r.swept) && deps.logger.info(r, 'expired uploads removed'))
      .catch((err) => deps.logger.warn({ err }, 'upload cleanup failed'))
      .finally(() => (running = false));
  }, every);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (!deps.temp) temp.close();
  };
}
