import type { ActionDefinition } from '#domain/actions/types.js';
import type { ActionRegistry } from '#domain/actions/registry.js';
import { NotFoundError } from '#lib/errors.js';
import type { components } from '../generated/openapi.js';
import { reply, type Route } from '../handler.js';

type Summary = components['schemas']['ActionSummary'];

const summary = (a: ActionDefinition): Summary => ({
  action_id: a.actionId,
  display_name: a.displayName,
  button_label: a.buttonLabel,
  description: a.description,
  icon: a.icon,
  media_type: a.mediaType,
  // The API's name for the action's price tier (kept for compatibility).
  category: a.priceTier,
  result_type: a.resultType,
});

export const listActions = (actions: ActionRegistry): Route<'listActions'> => ({
  async handle(ctx) {
    reply(ctx, 'listActions', 200, { actions: actions.list().map(summary) });
  },
});

export const listActionsForMediaType = (actions: ActionRegistry): Route<'listActionsForMediaType'> => ({
  async handle(ctx, { path }) {
    reply(ctx, 'listActionsForMediaType', 200, { actions: actions.list(path.mediaType).map(summary) });
  },
});

export const getAction = (actions: ActionRegistry): Route<'getAction'> => ({
  async handle(ctx, { path }) {
    const action = actions.get(path.actionId);
    if (!action || action.mediaType !== path.mediaType) throw new NotFoundError('Action', path.actionId);
    reply(ctx, 'getAction', 200, { ...summary(action), parameters_schema: action.parametersSchema, output_schema: action.outputSchema });
  },
});
