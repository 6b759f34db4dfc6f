import sharp from 'sharp';
import { ProcessingJobSchema } from '#entities/index.js';
import { FAKE_DESCRIPTION, FAKE_OCR, FAKE_SPEECH, OPENAI_KEY, startFakeAiServer, type FakeAiServer } from './support/fake-ai-server.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { stepRuns } from './support/history.js';
import { renderText } from './support/text-image.js';
import { makeWav } from './support/wav.js';

let h: Harness;
let fake: FakeAiServer;
let wav: Buffer;
beforeAll(async () => {
  fake = await startFakeAiServer();
  h = await startHarness({ worker: true, env: fake.env });
  wav = await makeWav(2);
});
afterAll(async () => {
  await h?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

const json = async (res: Response) => (await res.json()) as Record<string, any>;

async function upload(bytes: Buffer, name: string): Promise<string> {
  const res = await h.upload(bytes, name);
  expect(res.status).toBe(201);
  return (await json(res)).id;
}

async function runJob(mediaId: string, actionId: string, parameters: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const submitted = await h.post('/api/v1/process', { media_id: mediaId, action_id: actionId, parameters });
  expect(submitted.status).toBe(202);
  const { id } = await json(submitted);
  return waitFor(async () => {
    const job = await json(await h.fetch(`/api/v1/jobs/${id}`));
    return ['completed', 'failed'].includes(job.status) ? job : undefined;
  });
}

const jobRow = (id: string) => h.common.orm.em.fork().findOneOrFail(ProcessingJobSchema, { id });

const attempts = (jobId: string) => stepRuns(h.temporal, `job-${jobId}`);

describe('image AI actions', () => {
  test('img_ocr with local Tesseract reads a rendered word', async () => {
    const id = await upload(await renderText(['MEDIAFLOW']), 'word.png');
    const job = await runJob(id, 'img_ocr', { provider: 'tesseract' });
    expect(job).toMatchObject({ status: 'completed', result: { type: 'json', data: { provider: 'tesseract', text: 'MEDIAFLOW' } } });
    expect(job.result.data.blocks[0]).toMatchObject({ text: 'MEDIAFLOW', confidence: expect.any(Number), bbox: expect.any(Object) });
    expect(fake.requests).toHaveLength(0);
    expect(await jobRow(job.id)).toMatchObject({ aiProvider: 'tesseract', aiTokensUsed: 0 });
  });

  test('img_ocr through OpenAI (the configured provider) records the tokens on the job', async () => {
    const id = await upload(await sharp({ create: { width: 400, height: 200, channels: 3, background: '#fff' } }).png().toBuffer(), 'page.png');
    const job = await runJob(id, 'img_ocr');
    expect(job).toMatchObject({ status: 'completed', result: { data: { provider: 'openai', text: FAKE_OCR.text } } });
    const [req] = fake.requests;
    expect(req!.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(await jobRow(job.id)).toMatchObject({ aiProvider: 'openai', aiTokensUsed: req!.usage!.input + req!.usage!.output });

    // Not a transcript: format= is refused.
    const res = await h.fetch(`/api/v1/jobs/${job.id}/result?format=srt`);
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ code: 'VALIDATION_ERROR' });
  });

  test('img_describe through Claude', async () => {
    const id = await upload(await sharp({ create: { width: 300, height: 300, channels: 3, background: '#c00' } }).jpeg().toBuffer(), 'red.jpg');
    const job = await runJob(id, 'img_describe');
    expect(job).toMatchObject({ status: 'completed', result: { data: { ...FAKE_DESCRIPTION, provider: 'anthropic' } } });
    expect(fake.requests.map((r) => r.path)).toEqual(['/v1/messages']);
    expect(await jobRow(job.id)).toMatchObject({ aiProvider: 'anthropic', aiTokensUsed: fake.requests[0]!.usage!.input + fake.requests[0]!.usage!.output });
  });
});

describe('audio AI actions and transcript export', () => {
  test('aud_transcribe, exported as SRT, VTT, text and JSON', async () => {
    const id = await upload(wav, 'speech.wav');
    const job = await runJob(id, 'aud_transcribe');
    expect(job).toMatchObject({ status: 'completed', result: { data: { text: FAKE_SPEECH.join(' '), language_detected: true } } });
    expect(fake.requests[0]!.files![0]!.bytes.equals(wav)).toBe(true);

    const srt = await h.fetch(`/api/v1/jobs/${job.id}/result?format=srt`);
    expect(srt.status).toBe(200);
    expect(srt.headers.get('content-type')).toBe('application/x-subrip');
    expect(srt.headers.get('content-disposition')).toBe(`attachment; filename="${job.id}.srt"`);
    expect(await srt.text()).toBe(`1\n00:00:00,000 --> 00:00:01,000\n${FAKE_SPEECH[0]}\n\n2\n00:00:01,000 --> 00:00:02,000\n${FAKE_SPEECH[1]}\n`);

    const vtt = await h.fetch(`/api/v1/jobs/${job.id}/result?format=vtt`);
    expect(vtt.headers.get('content-type')).toBe('text/vtt; charset=utf-8');
    expect(await vtt.text()).toBe(`WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n${FAKE_SPEECH[0]}\n\n00:00:01.000 --> 00:00:02.000\n${FAKE_SPEECH[1]}\n`);

    const txt = await h.fetch(`/api/v1/jobs/${job.id}/result?format=txt`);
    expect(txt.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await txt.text()).toBe(`${FAKE_SPEECH.join('\n')}\n`);

    const asJson = await h.fetch(`/api/v1/jobs/${job.id}/result?format=json`);
    expect(asJson.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await json(asJson)).toEqual(job.result.data);

    const bad = await h.fetch(`/api/v1/jobs/${job.id}/result?format=docx`);
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.code).toBe('VALIDATION_ERROR');

    expect(await jobRow(job.id)).toMatchObject({ aiProvider: 'openai', aiTokensUsed: 0 });
  });

  test('aud_translate to German keeps the timestamps', async () => {
    const id = await upload(wav, 'speech.wav');
    const job = await runJob(id, 'aud_translate', { target_language: 'de' });
    expect(job).toMatchObject({ status: 'completed', result: { data: { target_language: 'de' } } });
    const srt = await (await h.fetch(`/api/v1/jobs/${job.id}/result?format=srt`)).text();
    expect(srt).toBe(`1\n00:00:00,000 --> 00:00:01,000\n[de] ${FAKE_SPEECH[0]}\n\n2\n00:00:01,000 --> 00:00:02,000\n[de] ${FAKE_SPEECH[1]}\n`);
    const chat = fake.requests.find((r) => r.path === '/v1/chat/completions')!;
    expect(await jobRow(job.id)).toMatchObject({ aiProvider: 'openai', aiTokensUsed: chat.usage!.input + chat.usage!.output });
  });

  test('the export formats are listed', async () => {
    const res = await h.fetch('/api/v1/export/formats');
    expect(res.status).toBe(200);
    const { formats } = await json(res);
    expect(formats.map((f: { format: string; content_type: string }) => [f.format, f.content_type])).toEqual([
      ['txt', 'text/plain; charset=utf-8'],
      ['srt', 'application/x-subrip'],
      ['vtt', 'text/vtt; charset=utf-8'],
      ['json', 'application/json'],
    ]);
  });
});

describe('provider failures', () => {
  test('a 401 fails the job with AI_PROVIDER_ERROR after one attempt', async () => {
    const id = await upload(wav, 'speech.wav');
    fake.failNext('openai', 'unauthorized');
    const job = await runJob(id, 'aud_transcribe');
    expect(job).toMatchObject({ status: 'failed', error: { code: 'AI_PROVIDER_ERROR', message: expect.stringContaining('openai replied 401') } });
    expect(job.error.message).not.toContain(OPENAI_KEY.slice(0, 10));
    expect(await attempts(job.id)).toBe(1);
    expect(fake.requests).toHaveLength(1);
  });

  test('a 500 is retried with backoff and the job then completes', async () => {
    const id = await upload(await sharp({ create: { width: 200, height: 200, channels: 3, background: '#00f' } }).png().toBuffer(), 'blue.png');
    fake.failNext('anthropic', 'server_error');
    const job = await runJob(id, 'img_describe');
    expect(job).toMatchObject({ status: 'completed', result: { data: { caption: FAKE_DESCRIPTION.caption } } });
    expect(fake.requests.map((r) => r.status)).toEqual([500, 200]);
    expect(await attempts(job.id)).toBe(2);
    expect((await jobRow(job.id)).aiProvider).toBe('anthropic');
  });

  test('a provider that stays unavailable through every retry fails the job with AI_PROVIDER_ERROR', async () => {
    const id = await upload(await sharp({ create: { width: 64, height: 64, channels: 3, background: '#0f0' } }).png().toBuffer(), 'green.png');
    fake.failNext('anthropic', 'server_error', 5);
    const job = await runJob(id, 'img_describe');
    expect(job).toMatchObject({ status: 'failed', error: { code: 'AI_PROVIDER_ERROR' } });
    expect(await attempts(job.id)).toBe(5);
  }, 60_000);
});
