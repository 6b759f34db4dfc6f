import multer from '@koa/multer';
import type { LinkRow, ProfileRow } from '#domain/speaker-store.js';
import { FileTooLargeError, ValidationError } from '#lib/errors.js';
import type { components } from '../generated/openapi.js';
import { reply, type AppContext, type AppMiddleware, type Route } from '../handler.js';
import { jsonBody } from '../middleware/body.js';
import { hasNul } from '../middleware/input-hygiene.js';
import type { SampleUpload } from '../services/speaker-service.js';
import type { Services } from '../services/index.js';

type Schemas = components['schemas'];
const NAME_MAX = 200;

export const listSpeakerProfiles = (s: Services, baseUrl: string): Route<'listSpeakerProfiles'> => ({
  async handle(ctx, { query }) {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    const { rows, total } = await s.speakers.list(ctx.state.organizationId, { limit, offset });
    reply(ctx, 'listSpeakerProfiles', 200, { profiles: rows.map((r) => toProfile(r, baseUrl)), total, limit, offset });
  },
});

export const createSpeakerProfile = (s: Services, baseUrl: string, bodyLimitKb: number, sampleMaxBytes: number): Route<'createSpeakerProfile'> => ({
  before: [jsonBody(bodyLimitKb), profileForm(sampleMaxBytes)],
  async handle(ctx) {
    const form = formOf(ctx);
    if (form.displayName === undefined) throw fieldError('display_name', 'is required');
    const row = await s.speakers.create(ctx.state.principal!, { displayName: form.displayName, sample: form.sample });
    const out = toProfile(row, baseUrl);
    ctx.set('Location', `${baseUrl}/api/v1/speakers/profiles/${out.profile_id}`);
    reply(ctx, 'createSpeakerProfile', 201, out);
  },
});

export const getSpeakerProfile = (s: Services, baseUrl: string): Route<'getSpeakerProfile'> => ({
  async handle(ctx, { path }) {
    reply(ctx, 'getSpeakerProfile', 200, toProfile(await s.speakers.get(ctx.state.organizationId, path.profile_id), baseUrl));
  },
});

export const updateSpeakerProfile = (s: Services, baseUrl: string, bodyLimitKb: number, sampleMaxBytes: number): Route<'updateSpeakerProfile'> => ({
  before: [jsonBody(bodyLimitKb), profileForm(sampleMaxBytes)],
  async handle(ctx, { path }) {
    const form = formOf(ctx);
    if (form.displayName === undefined && !form.sample) throw fieldError('display_name', 'give display_name, voice_sample or both');
    const row = await s.speakers.update(ctx.state.organizationId, path.profile_id, { displayName: form.displayName, sample: form.sample });
    reply(ctx, 'updateSpeakerProfile', 200, toProfile(row, baseUrl));
  },
});

export const deleteSpeakerProfile = (s: Services): Route<'deleteSpeakerProfile'> => ({
  async handle(ctx, { path }) {
    await s.speakers.remove(ctx.state.organizationId, path.profile_id);
    ctx.status = 204;
  },
});

export const downloadSpeakerVoiceSample = (s: Services): Route<'downloadSpeakerVoiceSample'> => ({
  async handle(ctx, { path }) {
    const sample = await s.speakers.openSample(ctx.state.organizationId, path.profile_id);
    ctx.attachment(sample.filename ?? 'voice-sample');
    ctx.type = sample.mimeType;
    ctx.length = sample.sizeBytes;
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = sample.stream;
  },
});

export const linkSpeaker = (s: Services, bodyLimitKb: number): Route<'linkSpeaker'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { body }) {
    const link = await s.speakers.link(ctx.state.principal!, { jobId: body.job_id, speakerLabel: body.speaker_id, profileId: body.user_profile_id });
    reply(ctx, 'linkSpeaker', 200, toLink(link));
  },
});

export const getSpeakerMapping = (s: Services): Route<'getSpeakerMapping'> => ({
  async handle(ctx, { path, query }) {
    reply(ctx, 'getSpeakerMapping', 200, toLink(await s.speakers.mapping(ctx.state.organizationId, query.job_id, path.speaker_id)));
  },
});

export const unlinkSpeaker = (s: Services): Route<'unlinkSpeaker'> => ({
  async handle(ctx, { path, query }) {
    await s.speakers.unlink(ctx.state.organizationId, query.job_id, path.speaker_id);
    ctx.status = 204;
  },
});

function toProfile({ profile: p, linkedSpeakers }: ProfileRow, baseUrl: string): Schemas['SpeakerProfile'] {
  return {
    profile_id: p.id,
    display_name: p.displayName,
    voice_sample: p.sampleKey
      ? {
          mime_type: p.sampleMimeType ?? 'application/octet-stream',
          size_bytes: p.sampleSizeBytes ?? 0,
          original_filename: p.sampleFilename,
          download_url: `${baseUrl}/api/v1/speakers/profiles/${p.id}/voice-sample`,
          uploaded_at: (p.sampleUploadedAt ?? p.updatedAt).toISOString(),
        }
      : null,
    linked_speakers: linkedSpeakers,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

const toLink = (l: LinkRow): Schemas['SpeakerLink'] => ({
  linked: true,
  job_id: l.jobId,
  speaker_id: l.speakerLabel,
  user_profile_id: l.profileId,
  display_name: l.displayName,
  confidence: l.confidence,
  method: l.method,
  linked_at: l.linkedAt.toISOString(),
});

const fieldError = (field: string, message: string) => new ValidationError(`Invalid ${field}`, { fields: [{ field, location: 'body', message }] });

interface ProfileForm {
  displayName?: string;
  sample?: SampleUpload;
}
const formOf = (ctx: AppContext): ProfileForm => (ctx.state as { speakerForm?: ProfileForm }).speakerForm ?? {};

/** A display name as stored: trimmed, not blank, at most 200 characters. */
function displayName(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw fieldError('display_name', 'must be a string');
  const name = v.trim();
  if (!name) throw fieldError('display_name', 'must not be blank');
  if (name.length > NAME_MAX) throw fieldError('display_name', `must be at most ${NAME_MAX} characters`);
  if (hasNul(name)) throw fieldError('display_name', 'must not contain NUL bytes');
  return name;
}

/**
 * The profile's fields from either body: JSON (parsed by jsonBody; the spec's schema checks it) or
 * multipart (read here: the spec checks only its content type). The sample is read into memory,
 * cut off at its limit.
 */
function profileForm(sampleMaxBytes: number): AppMiddleware {
  const upload = multer({ storage: multer.memoryStorage(), limits: { files: 1, fields: 5, parts: 6, fileSize: sampleMaxBytes, fieldSize: 4096 } }).single('voice_sample');
  return async function profileForm(ctx, next) {
    const state = ctx.state as { speakerForm?: ProfileForm };
    if (!ctx.is('multipart/form-data')) {
      const body = (ctx.request as { body?: { display_name?: unknown } }).body;
      state.speakerForm = { displayName: typeof body === 'object' && body !== null ? displayName(body.display_name) : undefined };
      return next();
    }
    try {
      await upload(ctx as never, async () => undefined);
    } catch (err) {
      const e = err as { name?: string; code?: string; field?: string; message?: string };
      if (e?.name === 'MulterError' && e.code === 'LIMIT_FILE_SIZE') throw new FileTooLargeError(sampleMaxBytes);
      if (e?.name === 'MulterError' || /multipart|boundary|unexpected end of form|malformed/i.test(e?.message ?? '')) {
        throw new ValidationError(`Invalid multipart body: ${e.message}`, { fields: [{ field: e.field ?? 'body', location: 'body', message: e.message ?? 'invalid' }] });
      }
      throw err;
    }
    const fields = ((ctx.request as { body?: Record<string, unknown> }).body ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(fields).filter((k) => k !== 'display_name');
    if (unknown.length) throw fieldError(unknown[0]!, 'is not a field of a speaker profile (display_name, voice_sample)');
    const file = (ctx as unknown as { file?: { buffer: Buffer; originalname: string } }).file;
    if (file && hasNul(file.originalname)) throw fieldError('voice_sample', 'the filename must not contain NUL bytes');
    state.speakerForm = { displayName: displayName(fields.display_name), ...(file ? { sample: { bytes: file.buffer, filename: file.originalname } } : {}) };
    await next();
  };
}
