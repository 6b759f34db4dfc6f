import { MikroORM } from '@mikro-orm/postgresql';
import { loadActionRegistry, type ActionRegistry } from './actions/registry.js';
import type { ActionLimits, InputMeasures } from './actions/types.js';
import { createOrm } from '#entities/index.js';
import type { Config } from '#lib/config.js';
import type { Logger } from '#lib/logger.js';
import { createStorage, type ObjectStorage } from '#lib/storage.js';
import { waitFor, type Waiting } from '#lib/wait-for.js';

/**
 * The pieces both the API and the worker build from configuration at start-up. With a logger, a
 * dependency that is not up yet is waited for (lib/wait-for.ts), its name in `waiting` meanwhile;
 * without one (tests), the first failure throws.
 */
export async function createCommon(
  config: Config,
  opts: { logger?: Logger; waiting?: Waiting } = {},
): Promise<{ orm: MikroORM; storage: ObjectStorage; actions: ActionRegistry }> {
  const storage = createStorage(config.s3);
  const wait = <T>(what: string, fn: () => Promise<T>) => (opts.logger ? waitFor(what, fn, { logger: opts.logger, policy: config.infraRetry, waiting: opts.waiting }) : fn());
  const [, orm, actions] = await Promise.all([
    wait('storage', () => storage.ensureBucket()),
    wait('postgres', () => connectOrm(config)),
    loadActionRegistry({ enabled: config.actions.enabled }),
  ]);
  return { orm, storage, actions };
}

// An ORM whose first query answered: a pool that cannot connect is closed, not kept half-made.
async function connectOrm(config: Config): Promise<MikroORM> {
  const orm = await createOrm({ url: config.database.url, poolMax: config.database.poolMax });
  try {
    await orm.em.getConnection().execute('select 1');
    return orm;
  } catch (err) {
    await orm.close().catch(() => undefined);
    throw err;
  }
}

export const actionLimits = (config: Config): ActionLimits => ({
  image: { maxResolution: config.media.image.maxResolution, timeoutSeconds: config.resources.imageTimeoutSeconds },
  audio: { maxDurationSeconds: config.media.audio.maxDurationMinutes * 60, durationMarginSeconds: config.resources.audioDurationMarginSeconds },
});

/** What the upload measured of a media file (its `metadata`: see api/services/inspect.ts). */
export function measuresOf(metadata: Record<string, unknown> | null | undefined): InputMeasures {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
  return { width: n(metadata?.width), height: n(metadata?.height), durationSeconds: n(metadata?.duration_seconds) };
}
