import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createSpeakerStore, type LinkRow, type ProfileRow, type SpeakerNames, type VoiceSample } from '#domain/speaker-store.js';
import { FileTooLargeError, InvalidFileTypeError, ValidationError } from '#lib/errors.js';
import { keys } from '#lib/storage.js';
import type { Principal } from '../auth/principal.js';
import type { ApiDeps } from '../deps.js';
import { detectMediaType, SNIFF_BYTES, supportedFormatNames } from '#domain/media/media-types.js';
import type { TranscriptionService } from './transcription-service.js';

/** A voice sample as received: whole in memory (it is small: SPEAKER_SAMPLE_MAX_MB). */
export interface SampleUpload {
  bytes: Buffer;
  filename: string;
}

/**
 * Voice profiles and the links of diarized speakers to them. The rows belong to the speaker store;
 * this adds the voice sample's checks and storage, and checks a link against the job's transcript.
 */
export function createSpeakerService(deps: ApiDeps, transcriptions: TranscriptionService) {
  const { storage, logger, config } = deps;
  const store = createSpeakerStore({ orm: deps.orm, clock: deps.clock });
  const maxBytes = config.media.speakerSampleMaxBytes;

  async function storeSample(organizationId: string, profileId: string, upload: SampleUpload): Promise<VoiceSample> {
    if (upload.bytes.length > maxBytes) throw new FileTooLargeError(maxBytes);
    if (!upload.bytes.length) throw new ValidationError('voice_sample is empty', { fields: [{ field: 'voice_sample', location: 'body', message: 'is empty' }] });
    const detected = await detectMediaType(upload.bytes.subarray(0, SNIFF_BYTES));
    if (!detected.ok || detected.type.mediaType !== 'audio') {
      const why = detected.ok ? `the file is ${detected.type.mediaType} (${detected.type.mimeType})` : detected.reason;
      throw new InvalidFileTypeError(`voice_sample must be audio: ${why}`, { field: 'voice_sample', supported_formats: supportedFormatNames('audio') });
    }
    const key = keys.speakerSample(organizationId, profileId, randomUUID());
    await storage.put(key, upload.bytes, detected.type.mimeType);
    return { key, mimeType: detected.type.mimeType, sizeBytes: upload.bytes.length, filename: upload.filename.slice(0, 255) || null };
  }

  /** Best effort: an object left behind is only clutter under the organization's prefix. */
  const removeSample = async (key: string | null) => {
    if (key) await storage.remove(key).catch((err: unknown) => logger.warn({ err, key }, 'could not remove a voice sample'));
  };

  return {
    async create(principal: Principal, p: { displayName: string; sample?: SampleUpload }): Promise<ProfileRow> {
      const id = randomUUID();
      const sample = p.sample ? await storeSample(principal.organizationId, id, p.sample) : undefined;
      try {
        return await store.create(principal.organizationId, { id, displayName: p.displayName, createdByUserId: principal.userId, sample });
      } catch (err) {
        await removeSample(sample?.key ?? null);
        throw err;
      }
    },

    get: (organizationId: string, id: string) => store.get(organizationId, id),
    list: (organizationId: string, page: { limit: number; offset: number }) => store.list(organizationId, page),

    async update(organizationId: string, id: string, changes: { displayName?: string; sample?: SampleUpload }): Promise<ProfileRow> {
      // Unknown (or another organization's) profile: refused before anything is stored.
      await store.get(organizationId, id);
      const sample = changes.sample ? await storeSample(organizationId, id, changes.sample) : undefined;
      try {
        const updated = await store.update(organizationId, id, { displayName: changes.displayName, sample });
        await removeSample(updated.replacedSampleKey);
        return updated;
      } catch (err) {
        await removeSample(sample?.key ?? null);
        throw err;
      }
    },

    async remove(organizationId: string, id: string): Promise<void> {
      const { sampleKey } = await store.remove(organizationId, id);
      await removeSample(sampleKey);
    },

    async openSample(organizationId: string, id: string): Promise<VoiceSample & { stream: Readable }> {
      const sample = await store.sample(organizationId, id);
      return { ...sample, stream: await storage.get(sample.key) };
    },

    /**
     * The job and the profile must be the organization's (404 otherwise, the profile checked first
     * so neither tells the other's existence), the transcript ready (409) and have the speaker (400).
     */
    async link(principal: Principal, l: { jobId: string; speakerLabel: string; profileId: string }): Promise<LinkRow> {
      const organizationId = principal.organizationId;
      await store.get(organizationId, l.profileId);
      const transcript = await transcriptions.get(organizationId, l.jobId, { names: false });
      const speakers = (transcript.speakers ?? []).map((s) => s.id);
      if (!speakers.includes(l.speakerLabel)) {
        const message = speakers.length ? `the transcript's speakers are ${speakers.join(', ')}` : 'the transcript is not diarized: it has no speakers (transcribe with diarize: true)';
        throw new ValidationError(`Speaker ${l.speakerLabel} is not in this transcript`, { fields: [{ field: 'speaker_id', location: 'body', message }] });
      }
      return store.link(organizationId, { ...l, linkedByUserId: principal.userId });
    },

    mapping: (organizationId: string, jobId: string, speakerLabel: string) => store.mapping(organizationId, jobId, speakerLabel),
    unlink: (organizationId: string, jobId: string, speakerLabel: string) => store.unlink(organizationId, jobId, speakerLabel),
    names: (organizationId: string, jobId: string): Promise<SpeakerNames> => store.names(organizationId, jobId),
  };
}

export type SpeakerService = ReturnType<typeof createSpeakerService>;
