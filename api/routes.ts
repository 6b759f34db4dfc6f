import type { ActionRegistry } from '../activities/actions/registry.js';
import type { Routes } from './handler.js';
import { getAction, listActions, listActionsForMediaType } from './handlers/actions.js';
import { createApiKey, getApiKey, listApiKeys, revokeApiKey, rotateApiKey, updateApiKey } from './handlers/api-keys.js';
import { acceptInvitation, changePassword, getMe, login, logout, refreshSession, register } from './handlers/auth.js';
import { listExportFormats } from './handlers/export.js';
import { getJob, getJobResult, submitJob } from './handlers/jobs.js';
import { downloadMedia, getMedia, uploadMedia } from './handlers/media.js';
import { getLiveness, getMetrics, getReadiness, getSystemConfig, getSystemStatus } from './handlers/ops.js';
import {
  deleteOrganization,
  getOrganization,
  inviteOrganizationUser,
  listOrganizationUsers,
  removeOrganizationUser,
  updateOrganization,
  updateOrganizationUserRole,
} from './handlers/organizations.js';
import { getRateLimits } from './handlers/rate-limits.js';
import { getHealth, getOpenApiDocument } from './handlers/system.js';
import { getMediaThumbnail } from './handlers/thumbnails.js';
import type { JsonObject } from './openapi/document.js';
import type { Services } from './services/index.js';

/** operationId → route. The router refuses to boot unless these match the spec exactly. */
export function createRoutes(
  s: Services,
  doc: JsonObject,
  opts: { baseUrl: string; bodyLimitKb: number; actions: ActionRegistry; now?: () => Date },
): Routes {
  const { baseUrl, bodyLimitKb, actions } = opts;
  const now = opts.now ?? (() => new Date());
  return {
    getOpenApiDocument: getOpenApiDocument(doc),
    getHealth: getHealth(s),
    uploadMedia: uploadMedia(s, baseUrl),
    getMedia: getMedia(s, baseUrl),
    downloadMedia: downloadMedia(s),
    getMediaThumbnail: getMediaThumbnail(s),
    submitJob: submitJob(s, baseUrl, bodyLimitKb),
    getJob: getJob(s, baseUrl),
    listExportFormats: listExportFormats(),
    getJobResult: getJobResult(s),
    listActions: listActions(actions),
    listActionsForMediaType: listActionsForMediaType(actions),
    getAction: getAction(actions),
    getMetrics: getMetrics(s),
    getLiveness: getLiveness(),
    getReadiness: getReadiness(s),
    getSystemStatus: getSystemStatus(s),
    getSystemConfig: getSystemConfig(s),
    register: register(s, bodyLimitKb),
    login: login(s, bodyLimitKb),
    refreshSession: refreshSession(s, bodyLimitKb),
    acceptInvitation: acceptInvitation(s, bodyLimitKb),
    logout: logout(s),
    getMe: getMe(s),
    changePassword: changePassword(s, bodyLimitKb),
    getOrganization: getOrganization(s),
    updateOrganization: updateOrganization(s, bodyLimitKb),
    deleteOrganization: deleteOrganization(s),
    listOrganizationUsers: listOrganizationUsers(s),
    inviteOrganizationUser: inviteOrganizationUser(s, bodyLimitKb),
    removeOrganizationUser: removeOrganizationUser(s),
    updateOrganizationUserRole: updateOrganizationUserRole(s, bodyLimitKb),
    listApiKeys: listApiKeys(s, now),
    createApiKey: createApiKey(s, bodyLimitKb, now),
    getApiKey: getApiKey(s, now),
    updateApiKey: updateApiKey(s, bodyLimitKb, now),
    revokeApiKey: revokeApiKey(s),
    rotateApiKey: rotateApiKey(s, bodyLimitKb, now),
    getRateLimits: getRateLimits(s, now),
  };
}
