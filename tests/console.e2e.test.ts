// The web console in a real browser (Debian's Chromium through playwright-core) against the real
// platform: the harness's API (which serves the built console) and worker, Temporal, MinIO, Postgres.
// CONSOLE_SCREENSHOTS=<dir> keeps a screenshot of each page visited.
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { ensureConsoleBuilt } from '../scripts/build-console.js';
import { startHarness, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import { librivoxRecordings, wordErrorRate } from './support/speech.js';
import { renderText } from './support/text-image.js';
import { noiseWav } from './support/noise-wav.js';
import { makeWav } from './support/wav.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let h: Harness;
let rx: Receiver;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const shots = process.env.CONSOLE_SCREENSHOTS;
const person = { org: 'Console Test Org', name: 'Grace', email: `grace-${Date.now()}@example.com`, password: 'a long enough passphrase' };

async function shot(name: string) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function jobIdFromUrl(): Promise<string> {
  await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
  return page.url().split('/').pop()!;
}

// The person signed in to the browser, as an API client (the harness's own tenant is another organization).
const me = () => h.as({ accessToken: token });
let token = '';
const status = () => page.getByTestId('job-status');
const json = async (res: Response | Promise<Response>): Promise<any> => (await res).json();

beforeAll(async () => {
  await ensureConsoleBuilt();
  rx = await startReceiver();
  // Webhooks to the loopback receiver, as under `npm start`.
  h = await startHarness({ worker: true, env: { WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8,::1/128' } });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await rx?.close();
});

test('the API serves the console with long-cached hashed assets, and never in place of /api', async () => {
  const index = await fetch(`${h.url}/jobs/some-page`, { headers: { accept: 'text/html' } });
  expect(index.status).toBe(200);
  expect(index.headers.get('cache-control')).toBe('no-cache');
  expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
  const html = await index.text();
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  expect(asset).toBeDefined();
  const js = await fetch(`${h.url}${asset}`);
  expect(js.status).toBe(200);
  expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
  expect(js.headers.get('content-encoding')).toBe('gzip'); // fetch asks for it, and unpacks it
  expect((await js.text()).length).toBeGreaterThan(Number(js.headers.get('content-length')));
  // No asset from elsewhere.
  expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);

  const api = await fetch(`${h.url}/api/v1/no-such-thing`, { headers: { accept: 'text/html' } });
  expect(api.status).toBe(404);
  expect((await json(api)).error.code).toBe('NOT_FOUND');
  expect((await fetch(`${h.url}/assets/missing-abc123.js`)).status).toBe(404);
  // Scripts asking for anything get the API's 404, not the page.
  expect((await fetch(`${h.url}/no-such-page`)).status).toBe(404);
  expect((await fetch(`${h.url}/assets/..%2f..%2fpackage.json`)).status).toBe(404);
});

test('sign up, keep the session over a reload, and go back to sign-in with a message when it expires', async () => {
  await page.goto(`${h.url}/`);
  await page.waitForURL(/\/sign-in$/);
  await page.getByRole('link', { name: 'Create an organization' }).click();
  await page.getByRole('button', { name: 'Create organization' }).click();
  await expect(page.getByText('Name your organization').isVisible()).resolves.toBe(true);
  await page.getByLabel('Organization').fill(person.org);
  await page.getByLabel('Your name').fill(person.name);
  await page.getByLabel('Email').fill(person.email);
  await page.getByLabel(/^Password/).fill(person.password);
  await shot('01-sign-up');
  await page.getByRole('button', { name: 'Create organization' }).click();
  await page.waitForURL(/\/media$/);
  await page.getByText('No media yet').waitFor();
  await page.reload();
  await page.getByTestId('org-name').getByText(person.org).waitFor();

  // Tokens nobody accepts any more: the console lands on sign-in and says why.
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('mediaflow.session')!);
    s.state.accessToken = 'expired';
    s.state.accessExpiresAt = 0;
    s.state.refreshToken = 'revoked';
    localStorage.setItem('mediaflow.session', JSON.stringify(s));
  });
  await page.reload();
  await page.waitForURL(/\/sign-in$/);
  await page.getByText('Your session has expired').waitFor();
  await shot('02-session-expired');
  await page.getByLabel('Email').fill(person.email);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/media$/);
  token = await page.evaluate(() => JSON.parse(localStorage.getItem('mediaflow.session')!).state.accessToken as string);
  const stored = await page.evaluate(() => Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)]));
  expect(stored.map(([k]) => k)).toEqual(['mediaflow.session']);
});

test('upload an image by drag and drop and audio files through the file picker (a large one resumably)', async () => {
  const jpeg = await makeJpeg(640, 480);
  // Drop a file the way a browser does: a drop event carrying a DataTransfer.
  const drop = await page.evaluateHandle(
    ({ bytes }) => {
      // Runs in the page (DOM types are not in this project's lib).
      const g = globalThis as unknown as { DataTransfer: new () => { items: { add(f: unknown): void } }; File: new (b: unknown[], n: string, o: object) => unknown };
      const dt = new g.DataTransfer();
      dt.items.add(new g.File([new Uint8Array(bytes)], 'photo.jpg', { type: 'image/jpeg' }));
      return dt;
    },
    { bytes: [...jpeg] },
  );
  await page.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer: drop });
  await page.locator('[data-testid=upload-row]', { hasText: 'photo.jpg' }).getByTestId('upload-state').getByText('done').waitFor();

  await page.locator('#upload-input').setInputFiles([
    { name: 'tone.wav', mimeType: 'audio/wav', buffer: await makeWav(3) },
    // Over the tus threshold (16 MiB): about nine minutes of noise, long enough to cancel mid-way.
    { name: 'long.wav', mimeType: 'audio/wav', buffer: noiseWav(18 * 1024 * 1024) },
  ]);
  for (const name of ['tone.wav', 'long.wav']) {
    await page.locator('[data-testid=upload-row]', { hasText: name }).getByTestId('upload-state').getByText('done').waitFor({ timeout: 60_000 });
  }
  await page.getByTestId('media-card').nth(2).waitFor();
  expect(await page.getByTestId('media-card').count()).toBe(3);
  await page.locator('[data-testid=media-card] img').first().waitFor();
  await shot('03-media-library');

  await page.getByTestId('media-card').filter({ hasText: 'tone.wav' }).click();
  await page.getByTestId('waveform').waitFor();
  await page.getByRole('heading', { name: 'Details' }).waitFor();
  await shot('04-media-detail-audio');
});

test('run an action from its generated form: schema messages, conditional fields, live completion, download', async () => {
  await page.getByRole('link', { name: 'Run an action' }).first().click();
  await page.getByLabel('File', { exact: true }).selectOption({ label: 'photo.jpg (image)' });

  // img_crop: left/top apply to the region strategy only.
  await page.getByLabel('Action', { exact: true }).selectOption('img_crop');
  await page.getByLabel('Left').waitFor();
  await page.getByLabel('Strategy').selectOption('attention');
  await page.getByLabel('Left').waitFor({ state: 'detached' });
  await page.getByLabel('Strategy').selectOption('region');
  await page.getByLabel('Left').waitFor();

  await page.getByLabel('Action', { exact: true }).selectOption('img_resize');
  await page.getByLabel('Width').waitFor();
  expect(await page.getByLabel('Fit').inputValue()).toBe('cover'); // defaults shown
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.getByText('Give width or height').waitFor();
  await page.getByLabel('Width').fill('0');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.getByText('Width must be at least 1').waitFor();
  await shot('05-run-form-errors');
  await page.getByLabel('Width').fill('160');
  await page.getByLabel('Format').selectOption('png');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const id = await jobIdFromUrl();
  await status().getByText('completed').waitFor({ timeout: 60_000 });
  await page.getByTestId('result-image').waitFor();
  await shot('06-job-image-result');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Download result/ }).click()]);
  const bytes = await readFile((await download.path())!);
  const meta = await sharp(bytes).metadata();
  expect(meta).toMatchObject({ format: 'png', width: 160, height: 120 });
  const job = await json(me().fetch(`/api/v1/jobs/${id}`));
  expect(job).toMatchObject({ status: 'completed', parameters: { width: 160, format: 'png', fit: 'cover' } });
});

test('build a pipeline and watch it complete live; a transcript-free audio result shows player and table', async () => {
  await page.goto(`${h.url}/run`);
  await page.getByLabel('File', { exact: true }).selectOption({ label: 'tone.wav (audio)' });
  await page.getByRole('radio', { name: 'Pipeline' }).click();
  await page.getByLabel('Action', { exact: true }).selectOption('aud_volume');
  await page.getByLabel('Mode').selectOption('gain');
  await page.getByLabel('Gain db').fill('-6');
  await page.getByRole('button', { name: 'Add a step' }).click();
  await page.getByTestId('step').nth(1).getByLabel('Action', { exact: true }).selectOption('aud_analyze');
  await page.getByRole('button', { name: 'Add a step' }).click();
  await page.getByTestId('step').nth(2).getByLabel('Action', { exact: true }).selectOption('aud_generate_waveform');
  await shot('07-pipeline-form');
  await page.getByRole('button', { name: 'Run pipeline' }).click();
  const id = await jobIdFromUrl();
  // Seen without reloading: the page follows the job's event stream.
  await status().getByText('completed').waitFor({ timeout: 90_000 });
  await page.getByTestId('artifact').nth(2).waitFor();
  await page.getByTestId('waveform').first().waitFor();
  await page.getByTestId('json-table').first().waitFor();
  await page.getByTestId('result-image').waitFor();
  expect(await page.getByTestId('job-step').count()).toBe(3);
  await shot('08-pipeline-done');
  const job = await json(me().fetch(`/api/v1/jobs/${id}`));
  expect(job.steps.map((s: { action_id: string; status: string }) => `${s.action_id}:${s.status}`)).toEqual([
    'aud_volume:completed',
    'aud_analyze:completed',
    'aud_generate_waveform:completed',
  ]);
});

test('cancel a running job from the jobs list and retry a failed one from its page', async () => {
  const long = (await json(me().fetch('/api/v1/media?media_type=audio'))).data.find((m: { original_filename: string }) => m.original_filename === 'long.wav');
  const running = await json(me().post('/api/v1/process', { media_id: long.id, action_id: 'aud_format_convert', parameters: { format: 'mp3' } }));
  await page.goto(`${h.url}/jobs`);
  const row = page.locator(`[data-job-id="${running.id}"]`);
  await row.and(page.locator('[data-status=processing]')).waitFor({ timeout: 60_000 });
  await shot('09-jobs-live');
  await row.getByRole('button', { name: /^Cancel/ }).click();
  await row.and(page.locator('[data-status=cancelled]')).waitFor({ timeout: 30_000 });
  expect((await json(me().fetch(`/api/v1/jobs/${running.id}`))).status).toBe('cancelled');

  // A crop larger than the image fails; retrying runs the failed step again.
  const photo = (await json(me().fetch('/api/v1/media?media_type=image'))).data.find((m: { original_filename: string }) => m.original_filename === 'photo.jpg');
  const failing = await json(me().post('/api/v1/process', { media_id: photo.id, action_id: 'img_crop', parameters: { width: 5000, height: 10, left: 0, top: 0 } }));
  await page.goto(`${h.url}/jobs/${failing.id}`);
  await status().getByText('failed').waitFor({ timeout: 60_000 });
  await page.getByText('The job failed').waitFor();
  await shot('10-job-failed');
  await page.getByRole('button', { name: /^Retry/ }).click();
  await page.getByTestId('retry-count').getByText('1').waitFor({ timeout: 30_000 });
  await status().getByText('failed').waitFor({ timeout: 60_000 });
  expect((await json(me().fetch(`/api/v1/jobs/${failing.id}`))).retry_count).toBe(1);
});

test('a list with more running jobs than the browser has connections stays live, and its buttons still answer', async () => {
  // Browsers open six connections per origin; a stream per running row would leave none for the page's own requests.
  const long = (await json(me().fetch('/api/v1/media?media_type=audio'))).data.find((m: { original_filename: string }) => m.original_filename === 'long.wav');
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) {
    const res = await me().post('/api/v1/process', { media_id: long.id, action_id: 'aud_format_convert', parameters: { format: 'mp3', bitrate: '64k' } });
    expect(res.status).toBe(202);
    ids.push((await json(res)).id);
  }
  try {
    await page.goto(`${h.url}/jobs`);
    for (const id of ids) await page.locator(`[data-job-id="${id}"]`).waitFor();
    // The oldest row is the last one: its cancel must go through while the newer ones are followed.
    const oldest = page.locator(`[data-job-id="${ids[0]}"]`);
    await oldest.getByRole('button', { name: /^Cancel/ }).click();
    await oldest.and(page.locator('[data-status=cancelled]')).waitFor({ timeout: 30_000 });
    expect((await json(me().fetch(`/api/v1/jobs/${ids[0]}`))).status).toBe('cancelled');
    // And the page still navigates and loads.
    await page.getByRole('link', { name: 'Media' }).first().click();
    await page.getByTestId('media-card').first().waitFor({ timeout: 15_000 });
  } finally {
    await Promise.all(ids.map((id) => me().post(`/api/v1/jobs/${id}/cancel`, {})));
  }
});

test('a transcript is shown with its timestamps and exports, and OCR text as text', async () => {
  const [speech] = await librivoxRecordings();
  const audio = await json(me().upload(await readFile(speech!.path), 'reading.wav', 'audio/wav'));
  const image = await json(me().upload(await renderText(['MEDIAFLOW CONSOLE', 'READS TEXT']), 'sign.png', 'image/png'));
  const transcribe = await json(me().post('/api/v1/process', { media_id: audio.id, action_id: 'aud_transcribe', parameters: { model: 'local' } }));
  const ocr = await json(me().post('/api/v1/process', { media_id: image.id, action_id: 'img_ocr', parameters: { provider: 'tesseract' } }));

  await page.goto(`${h.url}/jobs/${transcribe.id}`);
  await status().getByText('completed').waitFor({ timeout: 120_000 });
  const transcript = page.getByTestId('transcript');
  await transcript.locator('li').first().waitFor();
  const lines = await transcript.locator('li').allTextContents();
  // Each line starts with its start and end time.
  for (const line of lines) expect(line).toMatch(/^\d+:\d{2}\.\d – \d+:\d{2}\.\d/);
  const shown = lines.map((l) => l.replace(/^\S+ – \S+/, '')).join(' ');
  expect(wordErrorRate(speech!.reference, shown).wer).toBeLessThan(0.6);
  await shot('12-transcript');
  const [srt] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export SRT' }).click()]);
  const subtitles = await readFile((await srt.path())!, 'utf8');
  expect(subtitles).toMatch(/^1\r?\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}/);
  expect(subtitles.split(/\r?\n\r?\n/).filter((b) => b.trim()).length).toBe(lines.length);

  await page.goto(`${h.url}/jobs/${ocr.id}`);
  await status().getByText('completed').waitFor({ timeout: 60_000 });
  await expect(page.getByTestId('ocr-text').textContent()).resolves.toMatch(/MEDIAFLOW\s+CONSOLE/);
  await shot('13-ocr-text');
});

test('create an API key (secret shown once) and revoke it', async () => {
  await page.goto(`${h.url}/api-keys`);
  await page.getByLabel('Name').fill('ci');
  await page.getByLabel(/Upload and delete media/).check();
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = (await page.getByTestId('secret').textContent())!.trim();
  expect(secret).toMatch(/^mf_[0-9A-Za-z]{30}_[0-9A-Za-z]{6}$/);
  await shot('11-api-key-secret');
  expect((await h.as({ apiKey: secret }).fetch('/api/v1/media')).status).toBe(200);
  await page.getByRole('button', { name: 'I have stored it' }).click();
  await expect(page.getByTestId('secret').count()).resolves.toBe(0);
  // The secret is nowhere the browser keeps things.
  const kept = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })) + page.url();
  expect(kept).not.toContain(secret);

  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Revoke ci' }).click();
  await page.locator('[data-testid=api-key-row]', { hasText: 'ci' }).getByText('revoked').waitFor();
  expect((await h.as({ apiKey: secret }).fetch('/api/v1/media')).status).toBe(401);
});

test('add a webhook (secret shown once), send a test and see its delivery; invite a member and change their role', async () => {
  await page.goto(`${h.url}/webhooks`);
  await page.getByText('No webhooks yet').waitFor();
  await page.getByLabel('URL').fill(`${rx.url}/hook`);
  await page.getByRole('button', { name: 'Create webhook' }).click();
  expect((await page.getByTestId('secret').textContent())!.trim()).toMatch(/^whsec_/);
  await page.getByRole('button', { name: 'I have stored it' }).click();
  await page.getByRole('button', { name: 'Send test' }).click();
  await page.locator('[data-testid=delivery-row]', { hasText: 'webhook.test' }).getByText('succeeded').waitFor({ timeout: 30_000 });
  expect(rx.at('/hook').length).toBeGreaterThanOrEqual(1);
  await shot('15-webhooks');

  await page.goto(`${h.url}/members`);
  await page.getByLabel('Email').fill(`ada-${Date.now()}@example.com`);
  await page.getByLabel('Name', { exact: true }).fill('Ada');
  await page.getByRole('button', { name: 'Invite' }).click();
  await page.getByTestId('secret').waitFor();
  await page.getByRole('button', { name: 'I have stored it' }).click();
  const ada = page.locator('[data-testid=member-row]', { hasText: 'Ada' });
  await ada.getByText('invited').waitFor();
  await ada.getByLabel('Role of Ada').selectOption('admin');
  await page.getByText('Ada is now admin').waitFor();
  // The signed-in owner cannot demote or remove themself here.
  expect(await page.locator('[data-testid=member-row]', { hasText: '(you)' }).getByRole('button', { name: 'Remove' }).count()).toBe(0);
  await shot('16-members');
  page.once('dialog', (d) => void d.accept());
  await ada.getByRole('button', { name: 'Remove' }).click();
  await ada.waitFor({ state: 'detached' });
});

test('an invited person joins with the token on the acceptance page, and sees what their role allows', async () => {
  await page.goto(`${h.url}/members`);
  const email = `lin-${Date.now()}@example.com`;
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Name', { exact: true }).fill('Lin');
  await page.getByRole('button', { name: 'Invite' }).click();
  const invitation = (await page.getByTestId('secret').textContent())!.trim();
  const acceptUrl = (await page.getByTestId('accept-url').textContent())!.trim();
  expect(acceptUrl).toBe(`${h.url}/accept-invitation`);
  await page.getByRole('button', { name: 'I have stored it' }).click();

  // The invitee, in a browser of their own.
  const theirs = await browser.newContext({ viewport: { width: 390, height: 844 } });
  try {
    const lin = await theirs.newPage();
    lin.setDefaultTimeout(30_000);
    await lin.goto(`${h.url}/sign-in`);
    await lin.getByRole('link', { name: 'accept an invitation' }).click();
    await lin.waitForURL(/\/accept-invitation$/);
    await lin.getByLabel('Invitation token').fill(`${invitation}x`);
    await lin.getByLabel(/Choose a password/).fill('lin has a long passphrase');
    await lin.getByRole('button', { name: 'Join the organization' }).click();
    await lin.getByText('This invitation is not valid any more').waitFor();
    await lin.getByLabel('Invitation token').fill(invitation);
    await lin.getByRole('button', { name: 'Join the organization' }).click();
    await lin.waitForURL(/\/media$/);
    await lin.goto(`${h.url}/members`);
    await lin.getByText('Only owners and admins manage members').waitFor();
    const kept = await lin.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })) + lin.url();
    expect(kept).not.toContain(invitation);
  } finally {
    await theirs.close();
  }
  const orgId = (await json(me().fetch('/api/v1/auth/me'))).organization.id;
  const members = (await json(me().fetch(`/api/v1/organizations/${orgId}/users`))).users;
  expect(members.find((u: { email: string }) => u.email === email)).toMatchObject({ status: 'active', role: 'member' });
  // The token works once.
  const again = await h.as({}).post('/api/v1/auth/accept-invitation', { invitation_token: invitation, password: 'another long passphrase' });
  expect(again.status).toBe(401);
});

test('the usage page charts the jobs that ran, also on a phone', async () => {
  await page.goto(`${h.url}/usage`);
  await page.getByTestId('usage-jobs').getByText(/^[0-9]+$/).waitFor();
  expect(Number(await page.getByTestId('usage-jobs').textContent())).toBeGreaterThanOrEqual(4);
  await page.locator('[data-testid=chart-daily] .recharts-line path').first().waitFor();
  await page.locator('[data-testid=chart-actions] .recharts-bar-rectangle').first().waitFor();
  await shot('12-usage');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await page.getByTestId('usage-jobs').getByText(/^[0-9]+$/).waitFor();
  await shot('13-usage-phone');
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('link', { name: 'Jobs' }).click();
  await page.getByTestId('job-row').first().waitFor();
  await shot('14-jobs-phone');
  // Nothing sticks out sideways: wide tables scroll inside their card.
  expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
  for (const [path, ready] of [['/media', 'media-card'], ['/api-keys', 'api-key-row']] as const) {
    await page.goto(`${h.url}${path}`);
    await page.getByTestId(ready).first().waitFor();
    expect([path, await page.evaluate('document.documentElement.scrollWidth')]).toEqual([path, 390]);
  }
  await shot('15-media-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.getByRole('button', { name: 'Menu' }).waitFor({ state: 'hidden' });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/sign-in$/);
});
