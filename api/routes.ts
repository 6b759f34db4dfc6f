import type { ActionRegistry } from '#domain/actions/registry.js';
import type { Routes } from './handler.js';
import { getAction, listActions, listActionsForMediaType } from './handlers/actions.js';
import { createApiKey, getApiKey, listApiKeys, revokeApiKey, rotateApiKey, updateApiKey } from './handlers/api-keys.js';
import { closeCodecSession, decodeTemporalPayloads, encodeTemporalPayloads, openCodecSession } from './handlers/codec.js';
import { acceptInvitation, changePassword, getMe, login, logout, refreshSession, register } from './handlers/auth.js';
import { listExportFormats } from './handlers/export.js';
import { getTranscription, searchTranscripts } from './handlers/transcriptions.js';
import { getJob, getJobResult, submitJob } from './handlers/jobs.js';
import { uploadAndProcess } from './handlers/upload-and-process.js';
import { cancelJob, deleteJob, getJobArtifact, listJobArtifacts, retryJob, streamJobEvents } from './handlers/job-lifecycle.js';
import { deleteMedia, downloadMedia, getMedia, uploadMedia } from './handlers/media.js';
import { listJobs, listMedia } from './handlers/lists.js';
import { getUsage, getUsageDetailed } from './handlers/usage.js';
import { getAdminHealth, getAdminStats } from './handlers/admin.js';
import { getLiveness, getMetrics, getReadiness, getSupportedFormats, getSystemConfig, getSystemStatus } from './handlers/ops.js';
import {
  deleteOrganization,
  getOrganization,
  getOrganizationProviderKeys,
  inviteOrganizationUser,
  listOrganizationUsers,
  removeOrganizationUser,
  setOrganizationProviderKeys,
  updateOrganization,
  updateOrganizationUserRole,
} from './handlers/organizations.js';
import { getRateLimits } from './handlers/rate-limits.js';
import { getHealth, getOpenApiDocument } from './handlers/system.js';
import { getMediaThumbnail } from './handlers/thumbnails.js';
import {
  createChunkedUpload,
  deleteChunkedUpload,
  finalizeChunkedUpload,
  getChunkedUpload,
  getUpload,
  putChunk,
  streamUploadEvents,
  uploadsCreate,
  uploadsDelete,
  uploadsHead,
  uploadsOptions,
  uploadsPatch,
} from './handlers/uploads.js';
import { completeMediaUpload, presignMediaUpload } from './handlers/direct-uploads.js';
import { createDownloadLink, downloadSharedMedia } from './handlers/download-links.js';
import { getMediaImport, importMedia } from './handlers/imports.js';
import { createMediaShare, deleteMediaShare, listMediaShares } from './handlers/shares.js';
import {
  createSpeakerProfile,
  deleteSpeakerProfile,
  downloadSpeakerVoiceSample,
  getSpeakerMapping,
  getSpeakerProfile,
  linkSpeaker,
  listSpeakerProfiles,
  unlinkSpeaker,
  updateSpeakerProfile,
} from './handlers/speakers.js';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  redeliverWebhook,
  rotateWebhookSecret,
  testWebhook,
  updateWebhook,
} from './handlers/webhooks.js';
import type { JsonObject } from './openapi/document.js';
import type { Services } from './services/index.js';

/** operationId → route. The router refuses to boot unless these match the spec exactly. */
export function createRoutes(
  s: Services,
  doc: JsonObject,
  opts: { baseUrl: string; bodyLimitKb: number; speakerSampleMaxBytes: number; actions: ActionRegistry; now?: () => Date },
): Routes {
  const { baseUrl, bodyLimitKb, actions } = opts;
  const now = opts.now ?? (() => new Date());
  return {
    getOpenApiDocument: getOpenApiDocument(doc),
    getHealth: getHealth(s),
    uploadMedia: uploadMedia(s, baseUrl),
    getMedia: getMedia(s, baseUrl),
    uploadsOptions: uploadsOptions(s),
    uploadsCreate: uploadsCreate(s),
    uploadsHead: uploadsHead(s),
    uploadsPatch: uploadsPatch(s),
    uploadsDelete: uploadsDelete(s),
    getUpload: getUpload(s),
    streamUploadEvents: streamUploadEvents(s),
    createChunkedUpload: createChunkedUpload(s, baseUrl, bodyLimitKb),
    getChunkedUpload: getChunkedUpload(s, baseUrl),
    deleteChunkedUpload: deleteChunkedUpload(s),
    putChunk: putChunk(s),
    finalizeChunkedUpload: finalizeChunkedUpload(s, baseUrl, bodyLimitKb),
    presignMediaUpload: presignMediaUpload(s, baseUrl, bodyLimitKb),
    completeMediaUpload: completeMediaUpload(s, baseUrl),
    importMedia: importMedia(s, baseUrl, bodyLimitKb),
    getMediaImport: getMediaImport(s),
    listMediaShares: listMediaShares(s),
    createMediaShare: createMediaShare(s, bodyLimitKb),
    deleteMediaShare: deleteMediaShare(s),
    createDownloadLink: createDownloadLink(s, baseUrl, bodyLimitKb),
    downloadSharedMedia: downloadSharedMedia(s),
    listMedia: listMedia(s, baseUrl),
    deleteMedia: deleteMedia(s),
    listJobs: listJobs(s, baseUrl),
    getUsage: getUsage(s),
    getUsageDetailed: getUsageDetailed(s),
    downloadMedia: downloadMedia(s),
    getMediaThumbnail: getMediaThumbnail(s),
    submitJob: submitJob(s, baseUrl, bodyLimitKb),
    uploadAndProcess: uploadAndProcess(s, baseUrl),
    getJob: getJob(s, baseUrl),
    listExportFormats: listExportFormats(),
    getTranscription: getTranscription(s),
    searchTranscripts: searchTranscripts(s, bodyLimitKb),
    listSpeakerProfiles: listSpeakerProfiles(s, baseUrl),
    createSpeakerProfile: createSpeakerProfile(s, baseUrl, bodyLimitKb, opts.speakerSampleMaxBytes),
    getSpeakerProfile: getSpeakerProfile(s, baseUrl),
    updateSpeakerProfile: updateSpeakerProfile(s, baseUrl, bodyLimitKb, opts.speakerSampleMaxBytes),
    deleteSpeakerProfile: deleteSpeakerProfile(s),
    downloadSpeakerVoiceSample: downloadSpeakerVoiceSample(s),
    linkSpeaker: linkSpeaker(s, bodyLimitKb),
    getSpeakerMapping: getSpeakerMapping(s),
    unlinkSpeaker: unlinkSpeaker(s),
    getJobResult: getJobResult(s),
    cancelJob: cancelJob(s, baseUrl, bodyLimitKb),
    deleteJob: deleteJob(s, baseUrl, bodyLimitKb),
    retryJob: retryJob(s, baseUrl),
    listJobArtifacts: listJobArtifacts(s, baseUrl),
    getJobArtifact: getJobArtifact(s),
    streamJobEvents: streamJobEvents(s),
    listActions: listActions(actions),
    listActionsForMediaType: listActionsForMediaType(actions),
    getAction: getAction(actions),
    getMetrics: getMetrics(s),
    getLiveness: getLiveness(),
    getReadiness: getReadiness(s),
    getSystemStatus: getSystemStatus(s),
    getSystemConfig: getSystemConfig(s),
    getSupportedFormats: getSupportedFormats(s),
    getAdminHealth: getAdminHealth(s),
    getAdminStats: getAdminStats(s),
    encodeTemporalPayloads: encodeTemporalPayloads(s, bodyLimitKb),
    decodeTemporalPayloads: decodeTemporalPayloads(s, bodyLimitKb),
    openCodecSession: openCodecSession(s, baseUrl),
    closeCodecSession: closeCodecSession(baseUrl),
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
    getOrganizationProviderKeys: getOrganizationProviderKeys(s),
    setOrganizationProviderKeys: setOrganizationProviderKeys(s, bodyLimitKb),
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
    listWebhooks: listWebhooks(s),
    createWebhook: createWebhook(s, bodyLimitKb),
    getWebhook: getWebhook(s),
    updateWebhook: updateWebhook(s, bodyLimitKb),
    deleteWebhook: deleteWebhook(s),
    rotateWebhookSecret: rotateWebhookSecret(s, bodyLimitKb),
    testWebhook: testWebhook(s),
    listWebhookDeliveries: listWebhookDeliveries(s),
    redeliverWebhook: redeliverWebhook(s),
  };
}
