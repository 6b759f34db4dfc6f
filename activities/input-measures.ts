import type { InputMeasures } from '#domain/actions/types.js';
import { MediaFileSchema } from '#entities/index.js';
import { measuresOf } from '#domain/runtime.js';
import type { ActivityDeps } from './deps.js';

/**
 * What the upload measured of a step's input (dimensions, the duration read from every packet),
 * found by its storage key, with the upload's size; empty for an earlier step's result, which the upload never saw.
 */
export async function inputMeasures(deps: Pick<ActivityDeps, 'orm'>, organizationId: string, inputKey: string): Promise<InputMeasures & { sizeBytes?: number }> {
  const [row] = await deps.orm.em
    .fork()
    .execute<{ metadata: Record<string, unknown> | null; file_size_bytes: string | number | null }[]>(
      `select metadata, file_size_bytes from ${MediaFileSchema.meta.tableName} where organization_id = ? and storage_path = ? limit 1`,
      [organizationId, inputKey],
    );
  const size = row?.file_size_bytes == null ? undefined : Number(row.file_size_bytes);
  return { ...measuresOf(row?.metadata), ...(size !== undefined && Number.isFinite(size) ? { sizeBytes: size } : {}) };
}
