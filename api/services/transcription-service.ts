import { createSpeakerStore, type SpeakerNames } from '#domain/speaker-store.js';
import { JobStepSchema, ProcessingJobSchema } from '#entities/index.js';
import { ConflictError, NotFoundError } from '#lib/errors.js';
import type { ApiDeps } from '../deps.js';

/** The actions whose JSON result is a transcript. */
export const TRANSCRIPT_ACTIONS = ['aud_transcribe', 'aud_translate'] as const;

export interface TranscriptSegmentView {
  id: number;
  start: number;
  end: number;
  text: string;
  speaker?: string;
  speaker_name?: string;
  confidence?: number;
  words: { word: string; start: number; end: number; confidence?: number }[];
}

export interface TranscriptionView {
  job_id: string;
  media_id: string;
  action_id: (typeof TRANSCRIPT_ACTIONS)[number];
  created_at: string;
  completed_at: string | null;
  text: string;
  language: string | null;
  duration: number;
  segments: TranscriptSegmentView[];
  speakers?: { id: string; segments: number[]; profile_id?: string; name?: string }[];
  word_count: number;
  confidence: number | null;
  model: string;
  requested_model?: string;
  provider?: string;
}

type Data = Record<string, unknown>;
const num = (v: unknown, fallback = 0) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/**
 * Transcripts as the API shows them, read from the job's last transcription step. Results written
 * before every provider gave one shape (no words per segment, no word count) are completed here.
 */
export function createTranscriptionService(deps: ApiDeps) {
  const { orm } = deps;
  const speakers = createSpeakerStore({ orm, clock: deps.clock });
  return {
    /** `names: false` leaves out the linked profiles' names. */
    async get(organizationId: string, jobId: string, opts: { names?: boolean } = {}): Promise<TranscriptionView> {
      const em = orm.em.fork();
      const job = await em.findOne(ProcessingJobSchema, { id: jobId, organization: organizationId }, { populate: ['inputMedia'] });
      if (!job) throw new NotFoundError('Transcription', jobId);
      const step = await em.findOne(
        JobStepSchema,
        { job: jobId, actionId: { $in: [...TRANSCRIPT_ACTIONS] } },
        { orderBy: { stepIndex: 'desc' } },
      );
      const media = job.inputMedia.getEntity();
      if (!step || media.status === 'deleted') throw new NotFoundError('Transcription', jobId);
      if (step.status !== 'completed' || !step.resultData) {
        throw new ConflictError(`Job is ${job.status}; its transcript is available once it has completed`, { status: job.status });
      }
      const raw = ((step.resultData as { data?: Data }).data ?? {}) as Data;
      const data = opts.names === false ? raw : withSpeakerNames(raw, await speakers.names(organizationId, jobId));
      return toView(data, {
        job_id: job.id,
        media_id: media.id,
        action_id: step.actionId as TranscriptionView['action_id'],
        created_at: job.createdAt.toISOString(),
        completed_at: step.completedAt?.toISOString() ?? null,
      });
    },
  };
}

/**
 * The transcript with its linked speakers named: each segment of a linked speaker gets
 * `speaker_name`, each linked speaker `profile_id` and `name`. Anything else is left as it is.
 */
export function withSpeakerNames<T>(data: T, names: SpeakerNames): T {
  if (!names.size || typeof data !== 'object' || data === null) return data;
  const d = data as Data;
  const name = (label: unknown) => (typeof label === 'string' ? names.get(label) : undefined);
  return {
    ...d,
    ...(Array.isArray(d.segments)
      ? { segments: (d.segments as Data[]).map((s) => (name(s.speaker) ? { ...s, speaker_name: name(s.speaker)!.name } : s)) }
      : {}),
    ...(Array.isArray(d.speakers)
      ? { speakers: (d.speakers as Data[]).map((s) => (name(s.id) ? { ...s, profile_id: name(s.id)!.profileId, name: name(s.id)!.name } : s)) }
      : {}),
  } as T;
}

export function toView(data: Data, meta: Pick<TranscriptionView, 'job_id' | 'media_id' | 'action_id' | 'created_at' | 'completed_at'>): TranscriptionView {
  const segments = (Array.isArray(data.segments) ? (data.segments as Data[]) : []).map((s, i): TranscriptSegmentView => {
    const words = (Array.isArray(s.words) ? (s.words as Data[]) : []).map((w) => ({
      word: str(w.word) ?? '',
      start: num(w.start),
      end: num(w.end),
      ...(typeof w.confidence === 'number' ? { confidence: w.confidence } : {}),
    }));
    return {
      id: typeof s.id === 'number' ? s.id : i,
      start: num(s.start),
      end: num(s.end),
      text: str(s.text) ?? '',
      ...(str(s.speaker) ? { speaker: str(s.speaker)! } : {}),
      ...(str(s.speaker_name) ? { speaker_name: str(s.speaker_name)! } : {}),
      ...(typeof s.confidence === 'number' ? { confidence: s.confidence } : {}),
      words,
    };
  });
  const text = str(data.text) ?? segments.map((s) => s.text).join(' ');
  const usage = (data.usage ?? {}) as Data;
  const speakers = Array.isArray(data.speakers) ? (data.speakers as TranscriptionView['speakers']) : undefined;
  return {
    ...meta,
    text,
    language: str(data.language) ?? str(data.target_language) ?? null,
    duration: num(data.duration),
    segments,
    ...(speakers?.length ? { speakers } : {}),
    word_count: typeof data.word_count === 'number' ? data.word_count : text.split(/\s+/).filter(Boolean).length,
    confidence: typeof data.confidence === 'number' ? data.confidence : null,
    model: str(data.model) ?? str(usage.model) ?? 'unknown',
    ...(str(data.requested_model) ? { requested_model: str(data.requested_model)! } : {}),
    ...(str(data.provider) ?? str(usage.provider) ? { provider: (str(data.provider) ?? str(usage.provider))! } : {}),
  };
}

export type TranscriptionService = ReturnType<typeof createTranscriptionService>;
