import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { createAjv, toFieldErrors, type FieldError } from '#lib/ajv.js';
import type { ProviderName } from '#lib/ai/ports.js';
import type { ActionDefinition, MediaKind } from './types.js';

const ACTIONS_DIR = dirname(fileURLToPath(import.meta.url));
const MEDIA_DIRS: MediaKind[] = ['image', 'audio'];

export interface ActionRegistry {
  list(mediaType?: MediaKind): ActionDefinition[];
  get(actionId: string): ActionDefinition | undefined;
  /** Validates parameters in place (defaults applied); returns the problems, empty when valid. */
  validateParameters(action: ActionDefinition, params: Record<string, unknown>): FieldError[];
  /** The default AI provider each AI action declares, by action id (for lib/ai's registry). */
  aiDefaults(): Record<string, ProviderName>;
}

/**
 * Discovers every action under domain/actions/<media type>/<name>/<name>.ts: a file whose default
 * export is an action definition. `enabled` (config actions.enabled) switches actions off.
 */
export async function loadActionRegistry(opts: { enabled?: string[]; dir?: string } = {}): Promise<ActionRegistry> {
  const dir = opts.dir ?? ACTIONS_DIR;
  const found: ActionDefinition[] = [];
  for (const media of MEDIA_DIRS) {
    const entries = await readdir(join(dir, media), { withFileTypes: true }).catch(() => []);
    for (const folder of entries.filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
      // One folder per action, named after its file: <media type>/<name>/<name>.ts beside its tests.
      const files = await readdir(join(dir, media, folder));
      const file = files.find((f) => f === `${folder}.ts` || f === `${folder}.js`);
      if (!file) continue;
      const mod = (await import(pathToFileURL(join(dir, media, folder, file)).href)) as { default?: unknown };
      if (!isAction(mod.default)) continue;
      if (mod.default.mediaType !== media) {
        throw new Error(`${media}/${folder}: action ${mod.default.actionId} declares media type ${mod.default.mediaType}`);
      }
      if (found.some((a) => a.actionId === (mod.default as ActionDefinition).actionId)) {
        throw new Error(`duplicate action id ${mod.default.actionId}`);
      }
      found.push(mod.default);
    }
  }
  return createActionRegistry(found, opts.enabled);
}

export function createActionRegistry(all: ActionDefinition[], enabled?: string[]): ActionRegistry {
  const actions = enabled ? all.filter((a) => enabled.includes(a.actionId)) : all;
  const ajv = createAjv({ useDefaults: true });
  const validators = new Map<string, ValidateFunction>(actions.map((a) => [a.actionId, ajv.compile(a.parametersSchema)]));
  return {
    list: (mediaType) => actions.filter((a) => !mediaType || a.mediaType === mediaType),
    get: (id) => actions.find((a) => a.actionId === id),
    validateParameters(action, params) {
      const validate = validators.get(action.actionId);
      if (!validate) throw new Error(`action ${action.actionId} is not registered`);
      return validate(params) ? [] : toFieldErrors(validate.errors, 'body', 'parameters');
    },
    aiDefaults: () => Object.fromEntries(actions.flatMap((a) => (a.ai ? [[a.actionId, a.ai.provider]] : []))),
  };
}

function isAction(v: unknown): v is ActionDefinition {
  return typeof v === 'object' && v !== null && typeof (v as ActionDefinition).actionId === 'string' && typeof (v as ActionDefinition).run === 'function';
}
