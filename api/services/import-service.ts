import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { MediaImportSchema, type MediaImport } from '#entities/index.js';
import { InvalidActionError, NotFoundError, ServiceUnavailableError, ValidationError } from '#lib/errors.js';
import { createAddressPolicy } from '#lib/net/address-policy.js';
import { workflowIdForImport, type ImportMediaInput } from '#workflows/import-media.js';
import type { ProviderKeys } from '#workflows/types.js';
import type { Principal } from '../auth/principal.js';
import type { ApiDeps } from '../deps.js';

export interface ImportRequest {
  url: string;
  filename?: string;
  process?: { actionId: string; parameters: Record<string, unknown> };
  /** The request's own AI provider keys for the requested job: in the workflow input only, never in the import's row. */
  providerKeys?: ProviderKeys;
}

const urlProblem = (message: string) => new ValidationError(`Invalid url: ${message}`, { fields: [{ field: 'url', location: 'body', message }] });

/**
 * URL imports. What can be refused without a request is refused here (scheme, credentials,
 * literal private addresses, an unknown action or bad parameters); everything that needs the
 * network happens in the importMedia workflow, where each address is checked again.
 */
export function createImportService(deps: ApiDeps) {
  const { orm, temporal, actions, config, logger, clock } = deps;
  const policy = createAddressPolicy(config.intake.importAllowedCidrs);

  function checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw urlProblem('not a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw urlProblem('only http and https URLs can be imported');
    if (url.username || url.password) throw urlProblem('URLs with credentials are not accepted');
    // The URL parser has already normalised the other spellings of an address (2130706433, 0x7f.1, ...).
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const why = policy.refuse(host);
      if (why) throw urlProblem(why);
    }
    return url;
  }

  return {
    async submit(principal: Principal, req: ImportRequest, limits: { maxFileSizeBytes?: number; retentionDays: number }): Promise<MediaImport> {
      const url = checkUrl(req.url);
      let expectMediaType: 'image' | 'audio' | undefined;
      let parameters: Record<string, unknown> | undefined;
      if (req.process) {
        const action = actions.get(req.process.actionId);
        if (!action) throw new InvalidActionError(`Unknown action: ${req.process.actionId}`, { action_id: req.process.actionId });
        parameters = structuredClone(req.process.parameters);
        const problems = actions.validateParameters(action, parameters);
        if (problems.length) throw new ValidationError('Invalid action parameters', { fields: problems.map((p) => ({ ...p, field: `process.${p.field}` })) });
        expectMediaType = action.mediaType;
      }
      const id = randomUUID();
      const em = orm.em.fork();
      const record = em.create(MediaImportSchema, {
        id,
        organization: principal.organizationId,
        userId: principal.userId,
        apiKeyId: principal.apiKeyId ?? null,
        url: url.href,
        filename: req.filename ?? null,
        process: req.process ? { action_id: req.process.actionId, parameters: parameters ?? {} } : null,
        status: 'pending',
        workflowId: workflowIdForImport(id),
      });
      await em.flush();
      const input: ImportMediaInput = {
        importId: id,
        organizationId: principal.organizationId,
        url: url.href,
        filename: req.filename,
        userId: principal.userId,
        apiKeyId: principal.apiKeyId,
        maxFileSizeBytes: limits.maxFileSizeBytes,
        retentionDays: limits.retentionDays,
        timeoutMs: config.intake.importTimeoutMs,
        expectMediaType,
        // Only with a job to run them, and only in the (encrypted) workflow input.
        ...(req.process && req.providerKeys ? { providerKeys: req.providerKeys } : {}),
      };
      try {
        await temporal.workflow.start('importMedia', { taskQueue: config.temporal.taskQueue, workflowId: record.workflowId!, args: [input] });
      } catch (err) {
        logger.error({ err, importId: id }, 'could not start the import workflow');
        record.status = 'failed';
        record.errorCode = 'SERVICE_UNAVAILABLE';
        record.errorMessage = 'the import could not be queued';
        record.completedAt = clock.now();
        await em.flush();
        throw new ServiceUnavailableError('The import could not be queued; try again later', { import_id: id });
      }
      return record;
    },

    async get(organizationId: string, id: string): Promise<MediaImport> {
      const record = await orm.em.fork().findOne(MediaImportSchema, { id, organization: organizationId });
      if (!record) throw new NotFoundError('Import', id);
      return record;
    },
  };
}

export type ImportService = ReturnType<typeof createImportService>;
