// POST /api/v1/jobs: one multipart request uploads a file and runs a job on it (real Postgres,
// MinIO, Temporal, sharp): the reply carries both, the job completes, a refused job keeps nothing,
// Idempotency-Key replays without a second job, and a request's AI key reaches the provider only.
import { randomBytes } from 'node:crypto';
import { createLogger } from '#lib/logger.js';
import { OPENAI_KEY, startFakeAiServer, type FakeAiServer } from './support/fake-ai-server.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { makeWav } from './support/wav.js';

const PLATFORM_KEY = `sk-platform-refused-${randomBytes(8).toString('hex')}`;
const logLines: string[] = [];
let h: Harness;
let fake: FakeAiServer;
let jpeg: Buffer;
beforeAll(async () => {
  fake = await startFakeAiServer();
  const logger = createLogger('trace', 'test', { write: (line: string) => void logLines.push(line) });
  h = await startHarness({ worker: true, env: { ...fake.env, OPENAI_API_KEY: PLATFORM_KEY }, logger });
  jpeg = await makeJpeg(640, 480);
});
afterAll(async () => {
  await h?.stop();
  await fake?.close();
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;
type Part = [name: string, value: string] | [name: 'file', value: Buffer, filename: string];

/** A multipart body whose parts come in the order given. */
function form(parts: Part[]): FormData {
  const f = new FormData();
  for (const p of parts) {
    if (p[0] === 'file' && Buffer.isBuffer(p[1])) f.append('file', new Blob([new Uint8Array(p[1])], { type: 'application/octet-stream' }), p[2]);
    else f.append(p[0], p[1] as string);
  }
  return f;
}
const create = (parts: Part[], headers: Record<string, string> = {}, c = h as Pick<Harness, 'fetch'>) =>
  c.fetch('/api/v1/jobs', { method: 'POST', body: form(parts), headers });
const settled = (id: string) =>
  waitFor(async () => {
    const j = await json(await h.fetch(`/api/v1/jobs/${id}`));
    return ['completed', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
  }, 90_000);
async function counts(organizationId = h.tenant.organizationId) {
  const [row] = await h.common.orm.em
    .fork()
    .execute<{ media: string; jobs: string }[]>(
      `select (select count(*) from media_files where organization_id = ?) as media, (select count(*) from processing_jobs where organization_id = ?) as jobs`,
      [organizationId, organizationId],
    );
  return { media: Number(row!.media), jobs: Number(row!.jobs) };
}

test('file then fields: 202 with the media and the job, which completes with its result', async () => {
  const res = await create([['file', jpeg, 'holiday.jpg'], ['action_id', 'img_resize'], ['parameters', JSON.stringify({ width: 320 })]]);
  expect(res.status).toBe(202);
  const body = await json(res);
  expect(body.media).toMatchObject({ original_filename: 'holiday.jpg', media_type: 'image', mime_type: 'image/jpeg', file_size_bytes: jpeg.length });
  expect(body.job).toMatchObject({ action_id: 'img_resize', media_id: body.media.id });
  expect(res.headers.get('location')).toBe(`${h.url}/api/v1/jobs/${body.job.id}`);
  expect(res.headers.get('ratelimit-policy')).toMatch(/^"upload";q=\d+;w=\d+/);

  const done = await settled(body.job.id);
  expect(done.status).toBe('completed');
  const result = await h.fetch(`/api/v1/jobs/${body.job.id}/result`);
  expect(result.status).toBe(200);
  const { default: sharp } = await import('sharp');
  expect((await sharp(Buffer.from(await result.arrayBuffer())).metadata()).width).toBe(320);
  // The media file is an ordinary upload: it can be read and processed again.
  expect((await h.fetch(`/api/v1/media/${body.media.id}`)).status).toBe(200);
});

test('fields before the file, as a pipeline under the "action" names of the form', async () => {
  const steps = [{ action_id: 'img_resize', parameters: { width: 100 } }, { action_id: 'img_metadata' }];
  const res = await create([['steps', JSON.stringify(steps)], ['file', jpeg, 'a.jpg']]);
  expect(res.status).toBe(202);
  const { job } = await json(res);
  expect(job).toMatchObject({ total_steps: 2, action_id: 'img_resize' });
  expect((await settled(job.id)).status).toBe('completed');

  const single = await create([['action', 'img_metadata'], ['file', jpeg, 'b.jpg']]);
  expect(single.status).toBe(202);
  expect((await json(single)).job.action_id).toBe('img_metadata');
});

test('a refused job keeps nothing: the file is removed whatever the reason', async () => {
  const before = await counts();
  const cases: [Part[], number, string][] = [
    [[['file', jpeg, 'x.jpg'], ['action_id', 'no_such_action']], 400, 'INVALID_ACTION'],
    // An audio action on an image.
    [[['file', jpeg, 'x.jpg'], ['action_id', 'aud_trim'], ['parameters', '{"start":0,"end":1}']], 400, 'INVALID_ACTION'],
    [[['file', jpeg, 'x.jpg'], ['action_id', 'img_resize'], ['parameters', '{"width":"wide"}']], 400, 'VALIDATION_ERROR'],
    [[['file', jpeg, 'x.jpg'], ['action_id', 'img_resize'], ['parameters', '{not json']], 400, 'VALIDATION_ERROR'],
    [[['file', jpeg, 'x.jpg'], ['parameters', '{"width":10}']], 400, 'VALIDATION_ERROR'],
    [[['file', jpeg, 'x.jpg'], ['action_id', 'img_resize'], ['steps', '[{"action_id":"img_metadata"}]']], 400, 'VALIDATION_ERROR'],
    [[['file', jpeg, 'x.jpg'], ['action_id', 'img_metadata'], ['colour', 'red']], 400, 'VALIDATION_ERROR'],
    // Refused before the file is read.
    [[['action_id', 'img_metadata'], ['steps', 'nope'], ['file', jpeg, 'x.jpg']], 400, 'VALIDATION_ERROR'],
    [[['action_id', 'img_metadata']], 400, 'VALIDATION_ERROR'],
    [[['file', Buffer.from('plain text, not media'), 'x.txt'], ['action_id', 'img_metadata']], 400, 'INVALID_FILE_TYPE'],
  ];
  for (const [parts, status, code] of cases) {
    const res = await create(parts);
    const body = await json(res);
    expect({ parts: parts.map((p) => p[0]), status: res.status, code: body.error?.code }).toEqual({ parts: parts.map((p) => p[0]), status, code });
  }
  expect(await counts()).toEqual(before);
});

test('the upload checks and quotas apply: over the concurrent-jobs quota, 429 and nothing kept', async () => {
  const t = await h.newTenant();
  await h.common.orm.em.fork().execute(`update organizations set settings = jsonb_set(settings, '{quotas}', '{"concurrent_jobs": 1, "max_file_size_mb": 1}') where id = ?`, [
    t.organizationId,
  ]);
  // A file over the organization's max_file_size_mb (1 MB).
  const big = await create([['file', await makeWav(40), 'long.wav'], ['action_id', 'aud_analyze']], {}, t);
  expect({ status: big.status, code: (await json(big)).error.code }).toEqual({ status: 400, code: 'FILE_TOO_LARGE' });
  // One unfinished job takes the only slot.
  await h.common.orm.em.fork().execute(`update organizations set settings = jsonb_set(settings, '{quotas}', '{"concurrent_jobs": 1}') where id = ?`, [t.organizationId]);
  const media = await json(await t.upload(jpeg, 'held.jpg', 'image/jpeg'));
  await h.common.orm.em
    .fork()
    .execute(`insert into processing_jobs (organization_id, input_media_id, action_id, action_category, status) values (?, ?, 'img_metadata', 'process', 'processing')`, [
      t.organizationId,
      media.id,
    ]);
  const before = await counts(t.organizationId);
  const refused = await create([['file', jpeg, 'x.jpg'], ['action_id', 'img_metadata']], {}, t);
  expect({ status: refused.status, code: (await json(refused)).error.code }).toEqual({ status: 429, code: 'QUOTA_EXCEEDED' });
  expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(await counts(t.organizationId)).toEqual(before);
});

test('needs media:write as well as jobs:create', async () => {
  const key = await json(await h.post('/api/v1/api-keys', { name: 'jobs only', permissions: ['jobs:create', 'jobs:read'] }));
  const before = await counts();
  const res = await create([['file', jpeg, 'x.jpg'], ['action_id', 'img_metadata']], {}, h.as({ apiKey: key.api_key }));
  expect({ status: res.status, code: (await json(res)).error.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
  expect(await counts()).toEqual(before);
});

test('Idempotency-Key: a repeat replays the first reply and creates no second media or job; other fields are 422', async () => {
  const key = `upload-process-${randomBytes(6).toString('hex')}`;
  const parts: Part[] = [['file', jpeg, 'same.jpg'], ['action_id', 'img_metadata']];
  const first = await create(parts, { 'idempotency-key': key });
  expect(first.status).toBe(202);
  const firstBody = await json(first);
  const before = await counts();
  const again = await create(parts, { 'idempotency-key': key });
  expect(again.status).toBe(202);
  expect(again.headers.get('idempotent-replayed')).toBe('true');
  expect(await json(again)).toEqual(firstBody);
  expect(await counts()).toEqual(before);

  const other = await create([['file', jpeg, 'same.jpg'], ['action_id', 'img_resize'], ['parameters', '{"width":10}']], { 'idempotency-key': key });
  expect({ status: other.status, code: (await json(other)).error.code }).toEqual({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
  expect(await counts()).toEqual(before);
});

test("a request's X-OpenAI-API-Key is used for its job, and is stored and logged nowhere", async () => {
  fake.reset();
  const res = await create([['file', await makeWav(2), 'speech.wav'], ['action_id', 'aud_transcribe']], { 'X-OpenAI-API-Key': OPENAI_KEY });
  expect(res.status).toBe(202);
  const { job } = await json(res);
  expect((await settled(job.id)).status).toBe('completed');
  expect(new Set(fake.requests.filter((r) => r.provider === 'openai').map((r) => r.headers.authorization))).toEqual(new Set([`Bearer ${OPENAI_KEY}`]));

  const conn = h.common.orm.em.getConnection();
  const tables = (await conn.execute(`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`)) as { table_name: string }[];
  for (const { table_name } of tables) {
    const [row] = (await conn.execute(`select count(*) as n from "${table_name}" t where t::text like ?`, [`%${OPENAI_KEY}%`])) as { n: string }[];
    expect({ table_name, n: Number(row!.n) }).toEqual({ table_name, n: 0 });
  }
  expect(logLines.join('')).toContain(job.id);
  expect(logLines.join('')).not.toContain(OPENAI_KEY);
});
