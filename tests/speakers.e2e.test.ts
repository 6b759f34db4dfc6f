// Voice profiles and speaker links end to end: a recording diarized through the cloud fake (the real
// OpenAI SDK, gpt-4o-transcribe-diarize), profiles with and without a voice sample, a diarized
// speaker linked to a profile, and the profile's name in the transcript and in every export.
import { FAKE_SPEECH, startFakeAiServer, type FakeAiServer } from './support/fake-ai-server.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { expectSchema } from './support/spec.js';
import type { ApiClient, Tenant } from './support/tenants.js';
import { makeWav } from './support/wav.js';

let h: Harness;
let fake: FakeAiServer;
let other: Tenant;
/** A completed, diarized transcription (speakers A and B) and one that is not diarized. */
let diarizedJob: string;
let plainJob: string;
let sample: Buffer;

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const PROFILES = '/api/v1/speakers/profiles';

beforeAll(async () => {
  fake = await startFakeAiServer();
  // A 1 MB sample limit, so an over-long sample is cheap to send.
  h = await startHarness({ worker: true, env: { ...fake.env, SPEAKER_SAMPLE_MAX_MB: '1' } });
  other = await h.newTenant({ name: 'Other speakers org' });
  sample = await makeWav(1);
  const media = (await json(await h.upload(await makeWav(4), 'meeting.wav'))).id as string;
  const [diarized, plain] = await Promise.all([
    submit(h, { media_id: media, action_id: 'aud_transcribe', parameters: { diarize: true } }),
    submit(h, { media_id: media, action_id: 'aud_transcribe', parameters: { model: 'whisper-1' } }),
  ]);
  diarizedJob = diarized;
  plainJob = plain;
  for (const id of [diarizedJob, plainJob]) expect((await finished(id)).status).toBe('completed');
});
afterAll(async () => {
  await h?.stop();
  await fake?.close();
});

async function submit(c: ApiClient, body: Record<string, unknown>): Promise<string> {
  const res = await c.post('/api/v1/process', body);
  expect(res.status).toBe(202);
  return (await json(res)).id;
}
const finished = (id: string) =>
  waitFor(async () => {
    const job = await json(await h.fetch(`/api/v1/jobs/${id}`));
    return ['completed', 'failed', 'cancelled'].includes(job.status) ? job : undefined;
  }, 120_000);

function form(fields: Record<string, string>, file?: { bytes: Buffer; name: string; type?: string }): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  if (file) f.append('voice_sample', new Blob([new Uint8Array(file.bytes)], { type: file.type ?? 'audio/wav' }), file.name);
  return f;
}
const createJson = (c: ApiClient, body: unknown) => c.post(PROFILES, body);
const put = (c: ApiClient, path: string, body: unknown) =>
  c.fetch(path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const link = (c: ApiClient, body: Record<string, unknown>) => c.post('/api/v1/speakers/link', body);
const sampleKey = async (profileId: string) => {
  const rows = await h.common.orm.em.getConnection().execute<{ sample_key: string }[]>(`select sample_key from speaker_profiles where id = ?`, [profileId]);
  return rows[0]!.sample_key;
};
const exported = async (format: string) => (await h.fetch(`/api/v1/jobs/${diarizedJob}/result?format=${format}`)).text();

test('the migration matches the entities (no pending schema diff)', async () => {
  const diff = await h.common.orm.schema.getUpdateSchemaSQL({ wrap: false });
  expect(diff.split('\n').filter((l) => /"speaker_(profiles|links)"/.test(l))).toEqual([]);
});

test('the cloud fake diarizes: the transcript has speakers A and B', async () => {
  const t = await json(await h.fetch(`/api/v1/transcriptions/${diarizedJob}`));
  expectSchema('Transcription', t);
  expect(t.speakers.map((s: { id: string }) => s.id)).toEqual(['A', 'B']);
  expect(t.segments.map((s: { speaker: string; text: string }) => [s.speaker, s.text])).toEqual(FAKE_SPEECH.map((text, i) => [i % 2 ? 'B' : 'A', text]));
  expect(fake.requests.some((r) => r.fields?.model === 'gpt-4o-transcribe-diarize')).toBe(true);
});

test('a profile with a voice sample: stored, described, downloadable as uploaded; listed; renamed; deleted with its sample', async () => {
  const created = await h.fetch(PROFILES, { method: 'POST', body: form({ display_name: '  Ada Lovelace ' }, { bytes: sample, name: 'ada.wav', type: 'application/octet-stream' }) });
  expect(created.status).toBe(201);
  const profile = await json(created);
  expectSchema('SpeakerProfile', profile);
  expect(profile).toMatchObject({ display_name: 'Ada Lovelace', linked_speakers: 0, voice_sample: { mime_type: 'audio/wav', size_bytes: sample.length, original_filename: 'ada.wav' } });
  expect(created.headers.get('location')).toBe(`${h.url}${PROFILES}/${profile.profile_id}`);

  const download = await h.fetch(`${PROFILES}/${profile.profile_id}/voice-sample`);
  expect(download.status).toBe(200);
  expect(download.headers.get('content-type')).toBe('audio/wav');
  expect(Buffer.from(await download.arrayBuffer()).equals(sample)).toBe(true);
  // Stored encrypted like media: the object in the bucket is not the file.
  const key = await sampleKey(profile.profile_id);
  expect(key).toMatch(new RegExp(`^orgs/${h.tenant.organizationId}/speakers/${profile.profile_id}/`));

  const plain = await json(await createJson(h, { display_name: 'Charles Babbage' }));
  expect(plain).toMatchObject({ display_name: 'Charles Babbage', voice_sample: null });
  const list = await json(await h.fetch(`${PROFILES}?limit=200`));
  expectSchema('SpeakerProfileList', list);
  const names = list.profiles.map((p: { display_name: string }) => p.display_name);
  expect(names).toEqual(expect.arrayContaining(['Ada Lovelace', 'Charles Babbage']));
  expect(names).toEqual([...names].sort());

  const renamed = await put(h, `${PROFILES}/${plain.profile_id}`, { display_name: 'Charles B.' });
  expect(renamed.status).toBe(200);
  expect((await json(renamed)).display_name).toBe('Charles B.');
  // A new sample replaces the old, whose object is removed.
  const replaced = await h.fetch(`${PROFILES}/${profile.profile_id}`, { method: 'PUT', body: form({}, { bytes: await makeWav(2), name: 'ada2.wav' }) });
  expect(replaced.status).toBe(200);
  expect((await json(replaced)).display_name).toBe('Ada Lovelace');
  expect(await h.common.storage.stat(key)).toBeNull();
  const newKey = await sampleKey(profile.profile_id);

  expect((await h.fetch(`${PROFILES}/${profile.profile_id}`, { method: 'DELETE' })).status).toBe(204);
  expect((await h.fetch(`${PROFILES}/${profile.profile_id}`)).status).toBe(404);
  expect((await h.fetch(`${PROFILES}/${profile.profile_id}/voice-sample`)).status).toBe(404);
  expect(await h.common.storage.stat(newKey)).toBeNull();
  expect((await h.fetch(`${PROFILES}/${plain.profile_id}/voice-sample`)).status).toBe(404);
});

test('bad profiles are clear 400s and store nothing', async () => {
  const count = async () => {
    const rows = await h.common.orm.em.getConnection().execute<{ n: number }[]>(`select count(*)::int as n from speaker_profiles where organization_id = ?`, [h.tenant.organizationId]);
    return rows[0]!.n;
  };
  const before = await count();
  const expectError = async (res: Response, status: number, code: string, field?: string) => {
    const body = await json(res);
    expect({ status: res.status, code: body.error.code }).toEqual({ status, code });
    if (field) expect(JSON.stringify(body.error.details)).toContain(field);
  };
  await expectError(await createJson(h, { display_name: '   ' }), 400, 'VALIDATION_ERROR', 'display_name');
  await expectError(await createJson(h, {}), 400, 'VALIDATION_ERROR', 'display_name');
  await expectError(await createJson(h, { display_name: 'x'.repeat(201) }), 400, 'VALIDATION_ERROR', 'display_name');
  await expectError(await createJson(h, { display_name: 'A', extra: 1 }), 400, 'VALIDATION_ERROR');
  await expectError(await h.fetch(PROFILES, { method: 'POST', body: form({}, { bytes: sample, name: 'a.wav' }) }), 400, 'VALIDATION_ERROR', 'display_name');
  await expectError(await h.fetch(PROFILES, { method: 'POST', body: form({ display_name: 'Pic' }, { bytes: await makeJpeg(16, 16), name: 'a.wav' }) }), 400, 'INVALID_FILE_TYPE');
  await expectError(await h.fetch(PROFILES, { method: 'POST', body: form({ display_name: 'Noise' }, { bytes: Buffer.from('not audio at all'), name: 'a.wav' }) }), 400, 'INVALID_FILE_TYPE');
  await expectError(await h.fetch(PROFILES, { method: 'POST', body: form({ display_name: 'Long' }, { bytes: await makeWav(40), name: 'long.wav' }) }), 400, 'FILE_TOO_LARGE');
  await expectError(await h.fetch(PROFILES, { method: 'POST', body: form({ display_name: 'Two', colour: 'red' }) }), 400, 'VALIDATION_ERROR', 'colour');
  await expectError(await h.fetch(PROFILES, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'Ada' }), 400, 'VALIDATION_ERROR');
  const p = await json(await createJson(h, { display_name: 'Kept' }));
  await expectError(await put(h, `${PROFILES}/${p.profile_id}`, {}), 400, 'VALIDATION_ERROR');
  await expectError(await put(h, `${PROFILES}/00000000-0000-4000-8000-000000000000`, { display_name: 'x' }), 404, 'NOT_FOUND');
  expect(await count()).toBe(before + 1);
});

test('a diarized speaker linked to a profile: the mapping says so (confidence 1.0), and the name shows in the transcript and every export', async () => {
  const ada = await json(await createJson(h, { display_name: 'Ada Lovelace' }));
  const linked = await link(h, { job_id: diarizedJob, speaker_id: 'A', user_profile_id: ada.profile_id });
  expect(linked.status).toBe(200);
  const l = await json(linked);
  expectSchema('SpeakerLink', l);
  expect(l).toMatchObject({ linked: true, job_id: diarizedJob, speaker_id: 'A', user_profile_id: ada.profile_id, display_name: 'Ada Lovelace', confidence: 1, method: 'manual' });
  const mapping = await h.fetch(`/api/v1/speakers/A/mapping?job_id=${diarizedJob}`);
  expect(mapping.status).toBe(200);
  expect(await json(mapping)).toEqual(l);
  expect((await h.fetch(`/api/v1/speakers/B/mapping?job_id=${diarizedJob}`)).status).toBe(404);
  expect((await json(await h.fetch(`${PROFILES}/${ada.profile_id}`))).linked_speakers).toBe(1);

  const t = await json(await h.fetch(`/api/v1/transcriptions/${diarizedJob}`));
  expectSchema('Transcription', t);
  expect(t.speakers).toEqual([
    { id: 'A', segments: [0], profile_id: ada.profile_id, name: 'Ada Lovelace' },
    { id: 'B', segments: [1] },
  ]);
  expect(t.segments.map((s: Record<string, unknown>) => [s.speaker, s.speaker_name])).toEqual([['A', 'Ada Lovelace'], ['B', undefined]]);

  const [first, second] = FAKE_SPEECH;
  expect(await exported('srt')).toMatch(new RegExp(`^1\\n00:00:00,000 --> 00:00:02,000\\nAda Lovelace: ${first}\\n\\n2\\n[^\\n]+\\nB: ${second}\\n$`));
  expect(await exported('vtt')).toContain(`<v Ada Lovelace>${first}`);
  expect(await exported('txt')).toBe(`Ada Lovelace: ${first}\nB: ${second}\n`);
  const j = JSON.parse(await exported('json'));
  expect(j.segments[0]).toMatchObject({ speaker: 'A', speaker_name: 'Ada Lovelace' });
  expect(j.speakers[0]).toMatchObject({ id: 'A', name: 'Ada Lovelace', profile_id: ada.profile_id });

  // Renaming the profile renames the speaker; relinking replaces the link; unlinking removes it.
  await put(h, `${PROFILES}/${ada.profile_id}`, { display_name: 'Countess of Lovelace' });
  expect(await exported('srt')).toContain(`Countess of Lovelace: ${first}`);
  const charles = await json(await createJson(h, { display_name: 'Charles' }));
  expect((await link(h, { job_id: diarizedJob, speaker_id: 'A', user_profile_id: charles.profile_id })).status).toBe(200);
  expect(await exported('txt')).toBe(`Charles: ${first}\nB: ${second}\n`);
  expect((await h.fetch(`/api/v1/speakers/A/mapping?job_id=${diarizedJob}`, { method: 'DELETE' })).status).toBe(204);
  expect((await h.fetch(`/api/v1/speakers/A/mapping?job_id=${diarizedJob}`, { method: 'DELETE' })).status).toBe(404);
  expect(await exported('txt')).toBe(`A: ${first}\nB: ${second}\n`);

  // Deleting a profile deletes its links.
  await link(h, { job_id: diarizedJob, speaker_id: 'B', user_profile_id: charles.profile_id });
  expect((await json(await h.fetch(`/api/v1/transcriptions/${diarizedJob}`))).speakers[1].name).toBe('Charles');
  expect((await h.fetch(`${PROFILES}/${charles.profile_id}`, { method: 'DELETE' })).status).toBe(204);
  expect((await h.fetch(`/api/v1/speakers/B/mapping?job_id=${diarizedJob}`)).status).toBe(404);
  expect(await exported('txt')).toBe(`A: ${first}\nB: ${second}\n`);
});

test('links are checked: a speaker the transcript lacks, a transcript without speakers, unknown ids', async () => {
  const p = await json(await createJson(h, { display_name: 'Checker' }));
  const refused = await json(await link(h, { job_id: diarizedJob, speaker_id: 'Z', user_profile_id: p.profile_id }));
  expect(refused.error).toMatchObject({ code: 'VALIDATION_ERROR', details: { fields: [{ field: 'speaker_id', message: expect.stringContaining('A, B') }] } });
  const undiarized = await link(h, { job_id: plainJob, speaker_id: 'A', user_profile_id: p.profile_id });
  expect(undiarized.status).toBe(400);
  expect((await json(undiarized)).error.details.fields[0].message).toContain('not diarized');
  const unknown = '00000000-0000-4000-8000-000000000000';
  expect((await link(h, { job_id: unknown, speaker_id: 'A', user_profile_id: p.profile_id })).status).toBe(404);
  expect((await link(h, { job_id: diarizedJob, speaker_id: 'A', user_profile_id: unknown })).status).toBe(404);
  expect((await link(h, { job_id: diarizedJob, speaker_id: 'A b', user_profile_id: p.profile_id })).status).toBe(400);
  expect((await h.fetch(`/api/v1/speakers/A/mapping`)).status).toBe(400);
});

test("another organization neither sees nor links the profiles, jobs and links of this one", async () => {
  const mine = await json(await createJson(h, { display_name: 'Private person' }));
  await link(h, { job_id: diarizedJob, speaker_id: 'A', user_profile_id: mine.profile_id });
  const theirs = await json(await createJson(other, { display_name: 'Their person' }));

  expect((await other.fetch(`${PROFILES}/${mine.profile_id}`)).status).toBe(404);
  expect((await json(await other.fetch(`${PROFILES}?limit=200`))).profiles.map((p: { profile_id: string }) => p.profile_id)).toEqual([theirs.profile_id]);
  expect((await put(other, `${PROFILES}/${mine.profile_id}`, { display_name: 'Taken' })).status).toBe(404);
  expect((await other.fetch(`${PROFILES}/${mine.profile_id}`, { method: 'DELETE' })).status).toBe(404);
  // Their profile onto my job, my profile onto my job, by them: not found either way.
  expect((await link(other, { job_id: diarizedJob, speaker_id: 'A', user_profile_id: theirs.profile_id })).status).toBe(404);
  expect((await link(other, { job_id: diarizedJob, speaker_id: 'A', user_profile_id: mine.profile_id })).status).toBe(404);
  expect((await link(h, { job_id: diarizedJob, speaker_id: 'A', user_profile_id: theirs.profile_id })).status).toBe(404);
  expect((await other.fetch(`/api/v1/speakers/A/mapping?job_id=${diarizedJob}`)).status).toBe(404);
  expect((await other.fetch(`/api/v1/speakers/A/mapping?job_id=${diarizedJob}`, { method: 'DELETE' })).status).toBe(404);

  const still = await json(await h.fetch(`/api/v1/speakers/A/mapping?job_id=${diarizedJob}`));
  expect(still).toMatchObject({ user_profile_id: mine.profile_id, display_name: 'Private person' });
  expect((await json(await h.fetch(`${PROFILES}/${mine.profile_id}`))).display_name).toBe('Private person');
});

test('roles: a read-only key lists profiles but cannot create, link or delete them', async () => {
  const key = await json(await h.post('/api/v1/api-keys', { name: 'reader', permissions: ['media:read', 'jobs:read'] }));
  const reader = h.as({ apiKey: key.api_key });
  const p = await json(await createJson(h, { display_name: 'Guarded' }));
  expect((await reader.fetch(`${PROFILES}/${p.profile_id}`)).status).toBe(200);
  for (const res of [
    await createJson(reader, { display_name: 'No' }),
    await put(reader, `${PROFILES}/${p.profile_id}`, { display_name: 'No' }),
    await reader.fetch(`${PROFILES}/${p.profile_id}`, { method: 'DELETE' }),
    await link(reader, { job_id: diarizedJob, speaker_id: 'B', user_profile_id: p.profile_id }),
  ]) {
    expect({ status: res.status, code: (await json(res)).error.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
  }
  expect((await json(await h.fetch(`${PROFILES}/${p.profile_id}`))).display_name).toBe('Guarded');
});
