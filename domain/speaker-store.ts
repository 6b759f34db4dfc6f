import type { MikroORM } from '@mikro-orm/postgresql';
import { ProcessingJobSchema, SpeakerLinkSchema, SpeakerProfileSchema, type SpeakerLink, type SpeakerProfile } from '#entities/index.js';
import { NotFoundError } from '#lib/errors.js';
import type { Clock } from './clock.js';

export interface VoiceSample {
  key: string;
  mimeType: string;
  sizeBytes: number;
  filename: string | null;
}

export interface ProfileRow {
  profile: SpeakerProfile;
  linkedSpeakers: number;
}

export interface LinkRow {
  jobId: string;
  speakerLabel: string;
  profileId: string;
  displayName: string;
  confidence: number;
  method: SpeakerLink['method'];
  linkedAt: Date;
}

/** A job's speaker links by the speaker's id in its transcript. */
export type SpeakerNames = Map<string, { profileId: string; name: string }>;

/**
 * The speaker store: the only reader and writer of speaker_profiles and speaker_links. Every call
 * is scoped to one organization; a row of another is "not found", never told apart from a missing one.
 */
export function createSpeakerStore(deps: { orm: MikroORM; clock: Clock }) {
  const { orm, clock } = deps;

  async function counts(ids: string[]): Promise<Map<string, number>> {
    const n = new Map<string, number>();
    if (!ids.length) return n;
    const links = await orm.em.fork().find(SpeakerLinkSchema, { profile: { $in: ids } }, { fields: ['id', 'profile'] });
    for (const l of links) n.set(l.profile.id, (n.get(l.profile.id) ?? 0) + 1);
    return n;
  }

  async function own(organizationId: string, id: string): Promise<SpeakerProfile> {
    const profile = await orm.em.fork().findOne(SpeakerProfileSchema, { id, organization: organizationId });
    if (!profile) throw new NotFoundError('Speaker profile', id);
    return profile;
  }

  const toLink = (l: SpeakerLink, profile: SpeakerProfile): LinkRow => ({
    jobId: l.job.id,
    speakerLabel: l.speakerLabel,
    profileId: profile.id,
    displayName: profile.displayName,
    confidence: Number(l.confidence),
    method: l.method,
    linkedAt: l.linkedAt,
  });

  return {
    async create(organizationId: string, p: { id: string; displayName: string; createdByUserId?: string; sample?: VoiceSample }): Promise<ProfileRow> {
      const em = orm.em.fork();
      const now = clock.now();
      const profile = em.create(SpeakerProfileSchema, {
        id: p.id,
        organization: organizationId,
        displayName: p.displayName,
        createdByUserId: p.createdByUserId ?? null,
        ...sampleFields(p.sample, now),
        createdAt: now,
        updatedAt: now,
      });
      await em.flush();
      return { profile, linkedSpeakers: 0 };
    },

    async get(organizationId: string, id: string): Promise<ProfileRow> {
      const profile = await own(organizationId, id);
      return { profile, linkedSpeakers: (await counts([id])).get(id) ?? 0 };
    },

    async list(organizationId: string, page: { limit: number; offset: number }): Promise<{ rows: ProfileRow[]; total: number }> {
      const [profiles, total] = await orm.em
        .fork()
        .findAndCount(SpeakerProfileSchema, { organization: organizationId }, { orderBy: { displayName: 'asc', id: 'asc' }, limit: page.limit, offset: page.offset });
      const n = await counts(profiles.map((p) => p.id));
      return { rows: profiles.map((profile) => ({ profile, linkedSpeakers: n.get(profile.id) ?? 0 })), total };
    },

    /** Returns the profile as it now is and the sample it replaced (for the caller to remove from storage). */
    async update(organizationId: string, id: string, changes: { displayName?: string; sample?: VoiceSample }): Promise<ProfileRow & { replacedSampleKey: string | null }> {
      const em = orm.em.fork();
      const profile = await em.findOne(SpeakerProfileSchema, { id, organization: organizationId });
      if (!profile) throw new NotFoundError('Speaker profile', id);
      const now = clock.now();
      const replacedSampleKey = changes.sample ? (profile.sampleKey ?? null) : null;
      if (changes.displayName !== undefined) profile.displayName = changes.displayName;
      if (changes.sample) Object.assign(profile, sampleFields(changes.sample, now));
      profile.updatedAt = now;
      await em.flush();
      return { profile, linkedSpeakers: (await counts([id])).get(id) ?? 0, replacedSampleKey };
    },

    /** Deletes the profile and (by cascade) its links; returns its sample's key. */
    async remove(organizationId: string, id: string): Promise<{ sampleKey: string | null }> {
      const profile = await own(organizationId, id);
      await orm.em.fork().nativeDelete(SpeakerProfileSchema, { id, organization: organizationId });
      return { sampleKey: profile.sampleKey ?? null };
    },

    async sample(organizationId: string, id: string): Promise<VoiceSample> {
      const profile = await own(organizationId, id);
      if (!profile.sampleKey) throw new NotFoundError('Voice sample', id);
      return { key: profile.sampleKey, mimeType: profile.sampleMimeType ?? 'application/octet-stream', sizeBytes: profile.sampleSizeBytes ?? 0, filename: profile.sampleFilename ?? null };
    },

    /** Links (or relinks) a speaker of the organization's job to the organization's profile. */
    async link(organizationId: string, l: { jobId: string; speakerLabel: string; profileId: string; linkedByUserId?: string }): Promise<LinkRow> {
      const em = orm.em.fork();
      const profile = await own(organizationId, l.profileId);
      if (!(await em.count(ProcessingJobSchema, { id: l.jobId, organization: organizationId }))) throw new NotFoundError('Job', l.jobId);
      const now = clock.now();
      await em.upsert(
        SpeakerLinkSchema,
        { organization: organizationId, job: l.jobId, speakerLabel: l.speakerLabel, profile: profile.id, confidence: 1, method: 'manual', linkedByUserId: l.linkedByUserId ?? null, linkedAt: now },
        { onConflictFields: ['job', 'speakerLabel'], onConflictAction: 'merge', onConflictMergeFields: ['profile', 'confidence', 'method', 'linkedByUserId', 'linkedAt'] },
      );
      const row = await em.findOneOrFail(SpeakerLinkSchema, { job: l.jobId, speakerLabel: l.speakerLabel }, { refresh: true });
      return toLink(row, profile);
    },

    async mapping(organizationId: string, jobId: string, speakerLabel: string): Promise<LinkRow> {
      const em = orm.em.fork();
      const row = await em.findOne(SpeakerLinkSchema, { organization: organizationId, job: jobId, speakerLabel }, { populate: ['profile'] });
      if (!row) throw new NotFoundError('Speaker mapping', speakerLabel);
      return toLink(row, row.profile.getEntity());
    },

    async unlink(organizationId: string, jobId: string, speakerLabel: string): Promise<void> {
      const removed = await orm.em.fork().nativeDelete(SpeakerLinkSchema, { organization: organizationId, job: jobId, speakerLabel });
      if (!removed) throw new NotFoundError('Speaker mapping', speakerLabel);
    },

    /** The names a job's linked speakers show, for its owner organization. */
    async names(organizationId: string, jobId: string): Promise<SpeakerNames> {
      const rows = await orm.em.fork().find(SpeakerLinkSchema, { organization: organizationId, job: jobId }, { populate: ['profile'] });
      return new Map(rows.map((r) => [r.speakerLabel, { profileId: r.profile.id, name: r.profile.getEntity().displayName }]));
    },
  };
}

function sampleFields(sample: VoiceSample | undefined, now: Date) {
  if (!sample) return {};
  return { sampleKey: sample.key, sampleMimeType: sample.mimeType, sampleSizeBytes: sample.sizeBytes, sampleFilename: sample.filename, sampleUploadedAt: now };
}

export type SpeakerStore = ReturnType<typeof createSpeakerStore>;
