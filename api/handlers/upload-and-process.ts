import { ForbiddenError, ServiceUnavailableError, ValidationError } from '#lib/errors.js';
import { can } from '../auth/principal.js';
import { reply, type AppContext, type Route } from '../handler.js';
import { toJob, toMediaFile } from '../mappers.js';
import { canonicalJson } from '../middleware/idempotency.js';
import type { StepRequest } from '../services/pipeline.js';
import type { Services } from '../services/index.js';
import { providerKeysOf } from './provider-key-headers.js';
import { receiveMultipart } from './media.js';

const FIELDS = new Set(['action_id', 'action', 'parameters', 'steps']);

/** What the multipart text fields ask for, as `process` takes it. */
export interface ProcessFields {
  actionId?: string;
  parameters?: Record<string, unknown>;
  steps?: StepRequest[];
}

const invalid = (field: string, message: string) =>
  new ValidationError(`Invalid field "${field}": ${message}`, { fields: [{ field, location: 'body', message }] });

function json(fields: Record<string, unknown>, name: string): unknown {
  const raw = fields[name];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(String(raw));
  } catch {
    throw invalid(name, 'must be JSON text');
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the text fields (those received so far, or all of them): unknown or malformed ones are refused. */
export function parseProcessFields(fields: Record<string, unknown>): ProcessFields {
  for (const [name, value] of Object.entries(fields)) {
    if (!FIELDS.has(name)) throw invalid(name, `is not a field of this request (expected: file, ${[...FIELDS].join(', ')})`);
    if (typeof value !== 'string') throw invalid(name, 'must be given once');
  }
  if (fields.action_id !== undefined && fields.action !== undefined) throw invalid('action', 'give action_id or action, not both');
  const actionId = (fields.action_id ?? fields.action) as string | undefined;
  if (actionId !== undefined && (actionId.length < 1 || actionId.length > 50)) throw invalid('action_id', 'must be 1-50 characters');
  const parameters = json(fields, 'parameters');
  if (parameters !== undefined && !isObject(parameters)) throw invalid('parameters', 'must be a JSON object');
  const steps = json(fields, 'steps');
  if (steps !== undefined) {
    if (!Array.isArray(steps) || steps.length === 0) throw invalid('steps', 'must be a non-empty JSON array');
    steps.forEach((st: unknown, i) => {
      if (!isObject(st) || typeof st.action_id !== 'string' || (st.parameters !== undefined && !isObject(st.parameters))) {
        throw invalid(`steps[${i}]`, 'must be {"action_id": string, "parameters"?: object}');
      }
      const extra = Object.keys(st).filter((k) => k !== 'action_id' && k !== 'parameters');
      if (extra.length) throw invalid(`steps[${i}].${extra[0]}`, 'is not a field of a step');
    });
  }
  if (parameters !== undefined && steps !== undefined) throw invalid('parameters', 'with steps, each step carries its own parameters');
  return {
    ...(actionId !== undefined ? { actionId } : {}),
    ...(isObject(parameters) ? { parameters } : {}),
    ...(Array.isArray(steps)
      ? { steps: steps.map((st: Record<string, unknown>) => ({ actionId: st.action_id as string, parameters: (st.parameters ?? {}) as Record<string, unknown> })) }
      : {}),
  };
}

function complete(f: ProcessFields): void {
  if ((f.actionId === undefined) === (f.steps === undefined)) {
    throw invalid(f.steps ? 'action_id' : 'action_id', 'exactly one of action_id (or action) and steps is required');
  }
}

/** The idempotency fingerprint of the request: the file's digest and name, and the fields. */
const fingerprint = (ctx: AppContext): string => {
  const { media, fields } = ctx.state.uploaded!;
  return `${media.checksum_sha256}\n${media.original_filename}\n${canonicalJson(fields)}`;
};

/** POST /api/v1/jobs: the upload, then the job on it; a refused job leaves nothing behind. */
export const uploadAndProcess = (s: Services, baseUrl: string): Route<'uploadAndProcess'> => ({
  before: [
    s.idempotency({
      operation: 'uploadAndProcess',
      fingerprintAfter: fingerprint,
      discard: (ctx) => s.mediaDeletion.discard(ctx.state.organizationId, ctx.state.uploaded!.media.id),
    }),
  ],
  async handle(ctx) {
    const principal = ctx.state.principal!;
    if (!can(principal, 'media:write')) throw new ForbiddenError('This operation needs the "media:write" permission', { required: 'media:write' });
    const limits = await s.quotas.forUpload(principal.organizationId);
    const received = await receiveMultipart(s, ctx, { userId: principal.userId, apiKeyId: principal.apiKeyId, ...limits }, { beforeFile: parseProcessFields });
    const { media } = received;
    const fields = Object.fromEntries(Object.entries(received.fields).sort(([a], [b]) => (a < b ? -1 : 1)));
    ctx.state.uploaded = { media: toMediaFile(media, baseUrl), fields };
    let process: ProcessFields;
    try {
      process = parseProcessFields(fields);
      complete(process);
    } catch (err) {
      await s.mediaDeletion.discard(principal.organizationId, media.id);
      throw err;
    }
    if (ctx.state.idempotentRepeat) {
      // Only compared with the first request (then discarded): no second job.
      ctx.status = 202;
      ctx.body = ctx.state.uploaded;
      return;
    }
    let job;
    try {
      job = await s.jobs.submit(principal.organizationId, {
        userId: principal.userId,
        apiKeyId: principal.apiKeyId,
        mediaId: media.id,
        ...process,
        providerKeys: providerKeysOf(ctx),
      });
    } catch (err) {
      // A job recorded as failed (its workflow could not start) keeps its input; anything refused before leaves nothing.
      if (!(err instanceof ServiceUnavailableError)) await s.mediaDeletion.discard(principal.organizationId, media.id);
      throw err;
    }
    ctx.state.jobId = job.id;
    ctx.state.workflowId = job.workflowId ?? undefined;
    ctx.set('Location', `${baseUrl}/api/v1/jobs/${job.id}`);
    reply(ctx, 'uploadAndProcess', 202, { media: toMediaFile(media, baseUrl), job: toJob(job, baseUrl) });
  },
});
