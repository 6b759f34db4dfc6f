import type { ActionRegistry } from '../activities/actions/registry.js';
import type { Routes } from './handler.js';
import { getAction, listActions, listActionsForMediaType } from './handlers/actions.js';
import { getJob, getJobResult, submitJob } from './handlers/jobs.js';
import { downloadMedia, getMedia, uploadMedia } from './handlers/media.js';
import { getHealth, getOpenApiDocument } from './handlers/system.js';
import type { JsonObject } from './openapi/document.js';
import type { Services } from './services/index.js';

/** operationId → route. The router refuses to boot unless these match the spec exactly. */
export function createRoutes(
  s: Services,
  doc: JsonObject,
  opts: { baseUrl: string; bodyLimitKb: number; actions: ActionRegistry },
): Routes {
  const { baseUrl, bodyLimitKb, actions } = opts;
  return {
    getOpenApiDocument: getOpenApiDocument(doc),
    getHealth: getHealth(s),
    uploadMedia: uploadMedia(s, baseUrl),
    getMedia: getMedia(s, baseUrl),
    downloadMedia: downloadMedia(s),
    submitJob: submitJob(s, baseUrl, bodyLimitKb),
    getJob: getJob(s, baseUrl),
    getJobResult: getJobResult(s),
    listActions: listActions(actions),
    listActionsForMediaType: listActionsForMediaType(actions),
    getAction: getAction(actions),
  };
}
