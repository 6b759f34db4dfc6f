import { MikroORM } from '@mikro-orm/postgresql';
import { loadActionRegistry, type ActionRegistry } from './actions/registry.js';
import type { ActionLimits, InputMeasures } from './actions/types.js';
import { createOrm } from '#entities/index.js';
import type { Config } from '#lib/config.js';
import { createStorage, type ObjectStorage } from '#lib/storage.js';

/** The pieces both the API and the worker build from configuration at start-up. */
export async function createCommon(config: Config): Promise<{ orm: MikroORM; storage: ObjectStorage; actions: ActionRegistry }> {
  const storage = createStorage(config.s3);
  await storage.ensureBucket();
  const orm = await createOrm({ url: config.database.url, poolMax: config.database.poolMax });
  const actions = await loadActionRegistry({ enabled: config.actions.enabled });
  return { orm, storage, actions };
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
