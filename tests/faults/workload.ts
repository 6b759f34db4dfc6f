// What the fault suite's clients do: organizations with a webhook endpoint each, uploads through
// multipart and tus, jobs of every kind submitted steadily while faults are injected, and a burst
// of jobs at once with GET /jobs/{id} timed meanwhile. It remembers what the API accepted: that is
// what the audit (checks.ts) holds the platform to.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as tus from 'tus-js-client';
import { makeJpeg } from '../support/media.js';
import { noiseWav } from '../support/noise-wav.js';
import { registerTenant, type Tenant } from '../support/tenants.js';
import { makeWav } from '../support/wav.js';
import type { Receiver } from '../support/webhook-receiver.js';

export interface AcceptedJob {
  id: string;
  organizationId: string;
  kind: string;
  steps: number;
  /** What the job must end as: invalid input fails, everything else completes. */
  expect: 'completed' | 'failed';
}
export interface SucceededUpload {
  organizationId: string;
  mediaId: string;
  sha256: string;
  via: 'multipart' | 'tus';
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

type Submission = { kind: string; expect: AcceptedJob['expect']; body: (media: Media) => Record<string, unknown> };
interface Media {
  image: string;
  audio: string;
}

// The mixed workload's job kinds: image, a three-step pipeline, long audio, and one kind of bad input.
const KINDS: Submission[] = [
  { kind: 'image', expect: 'completed', body: (m) => ({ media_id: m.image, action_id: 'img_resize', parameters: { width: 320, format: 'webp' } }) },
  {
    kind: 'pipeline',
    expect: 'completed',
    body: (m) => ({
      media_id: m.image,
      steps: [
        { action_id: 'img_resize', parameters: { width: 480 } },
        { action_id: 'img_metadata' },
        { action_id: 'img_format_convert', parameters: { format: 'png' } },
      ],
    }),
  },
  { kind: 'audio', expect: 'completed', body: (m) => ({ media_id: m.audio, action_id: 'aud_format_convert', parameters: { format: 'mp3' } }) },
  { kind: 'audio', expect: 'completed', body: (m) => ({ media_id: m.audio, action_id: 'aud_format_convert', parameters: { format: 'flac' } }) },
  { kind: 'invalid', expect: 'failed', body: (m) => ({ media_id: m.image, action_id: 'img_crop', parameters: { strategy: 'region', left: 1200, top: 0, width: 400, height: 100 } }) },
];

export class Workload {
  tenants: Tenant[] = [];
  media = new Map<string, Media>();
  jobs: AcceptedJob[] = [];
  uploads: SucceededUpload[] = [];
  refused = 0;
  private jpeg: Buffer | undefined;

  constructor(
    readonly url: string,
    readonly receiver: Receiver,
    private readonly log: (line: string) => void,
  ) {}

  async setUp(organizations: number): Promise<void> {
    this.jpeg = await makeJpeg(1280, 720);
    const wav = await makeWav(300);
    for (let i = 0; i < organizations; i++) {
      const t = await registerTenant(this.url, { name: `Faults org ${i + 1}` });
      this.tenants.push(t);
      const hook = await t.post('/api/v1/webhooks', { url: `${this.receiver.url}/org-${i + 1}`, events: ['job.completed', 'job.failed'] });
      if (hook.status !== 201) throw new Error(`webhook endpoint: ${hook.status} ${await hook.text()}`);
      const image = await this.multipart(t, this.jpeg, 'photo.jpg', 'image/jpeg');
      const audio = await this.tus(t, wav, 'recording.wav');
      if (!image || !audio) throw new Error('the first uploads failed on a healthy stack');
      this.media.set(t.organizationId, { image, audio });
    }
    this.log(`set up ${organizations} organizations, each with a webhook endpoint, an image (multipart) and 5 minutes of audio (tus)`);
  }

  /** Multipart upload; the media id when the client saw it succeed. */
  async multipart(t: Tenant, body: Buffer, filename: string, type: string): Promise<string | undefined> {
    const res = await t.upload(body, filename, type).catch(() => undefined);
    if (res?.status !== 201) return void this.refuse(res);
    const { id } = (await res.json()) as { id: string };
    this.uploads.push({ organizationId: t.organizationId, mediaId: id, sha256: sha256(body), via: 'multipart' });
    return id;
  }

  /** tus upload in 1 MiB chunks, resumed by the client across outages; the media id on success. */
  tus(t: Tenant, body: Buffer, filename: string): Promise<string | undefined> {
    return new Promise((resolve) => {
      const upload = new tus.Upload(body, {
        endpoint: `${this.url}/api/v1/uploads`,
        headers: { 'x-api-key': t.apiKey },
        metadata: { filename },
        chunkSize: 1024 * 1024,
        retryDelays: [500, 1000, 2000, 4000, 4000, 4000],
        onError: () => {
          this.refused++;
          resolve(undefined);
        },
        onSuccess: ({ lastResponse }) => {
          const id = lastResponse.getHeader('Mediaflow-Media-Id');
          if (!id) return resolve(undefined);
          this.uploads.push({ organizationId: t.organizationId, mediaId: id, sha256: sha256(body), via: 'tus' });
          resolve(id);
        },
      });
      upload.start();
    });
  }

  private refuse(res: Response | undefined): undefined {
    this.refused++;
    void res?.body?.cancel();
    return undefined;
  }

  async submit(t: Tenant, s: Submission): Promise<AcceptedJob | undefined> {
    const media = this.media.get(t.organizationId)!;
    const body = s.body(media);
    const res = await t.post('/api/v1/process', body).catch(() => undefined);
    if (res?.status !== 202) return this.refuse(res);
    const { id } = (await res.json()) as { id: string };
    const steps = Array.isArray(body.steps) ? body.steps.length : 1;
    const job: AcceptedJob = { id, organizationId: t.organizationId, kind: s.kind, steps, expect: s.expect };
    this.jobs.push(job);
    return job;
  }

  /** Jobs and uploads at a steady pace from `clients` clients until the returned stop is called. */
  runMixed(clients: number): () => Promise<void> {
    let stopped = false;
    let n = 0;
    const loops = Array.from({ length: clients }, async (_, c) => {
      while (!stopped) {
        const t = this.tenants[(n + c) % this.tenants.length]!;
        const i = n++;
        if (i % 7 === 3) await this.multipart(t, await makeJpeg(320 + (i % 50), 240), `upload-${i}.jpg`, 'image/jpeg');
        else if (i % 7 === 5) await this.tus(t, noiseWav(300_000 + i), `noise-${i}.wav`);
        else await this.submit(t, KINDS[i % KINDS.length]!);
        await sleep(400);
      }
    });
    return async () => {
      stopped = true;
      await Promise.all(loops);
    };
  }

  /** `count` light jobs at once across every organization, GET /jobs/{id} timed while they run. */
  async runLoad(count: number): Promise<{ accepted: number; p50: number; p95: number; max: number; samples: number }> {
    const before = this.jobs.length;
    const latencies: number[] = [];
    let submitting = true;
    const readers = Array.from({ length: 8 }, async () => {
      while (submitting || this.jobs.slice(before).some((j) => !this.terminal.has(j.id))) {
        const pool = this.jobs.slice(before).filter((j) => !this.terminal.has(j.id));
        const job = pool[Math.floor(Math.random() * pool.length)];
        if (!job) {
          await sleep(50);
          continue;
        }
        const t = this.tenants.find((x) => x.organizationId === job.organizationId)!;
        const t0 = performance.now();
        const res = await t.fetch(`/api/v1/jobs/${job.id}`).catch(() => undefined);
        latencies.push(performance.now() - t0);
        if (res?.ok) {
          const { status } = (await res.json()) as { status: string };
          if (['completed', 'failed', 'cancelled'].includes(status)) {
          this.terminal.add(job.id);
          this.statuses.set(job.id, status);
        }
        } else void res?.body?.cancel();
      }
    });
    const light: Submission = { kind: 'load', expect: 'completed', body: (m) => ({ media_id: m.image, action_id: 'img_resize', parameters: { width: 64 } }) };
    await Promise.all(Array.from({ length: count }, (_, i) => this.submit(this.tenants[i % this.tenants.length]!, light)));
    submitting = false;
    const done = Promise.all(readers);
    await Promise.race([done, sleep(240_000)]);
    submitting = false;
    const sorted = latencies.sort((a, b) => a - b);
    const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
    return { accepted: this.jobs.length - before, p50: at(0.5), p95: at(0.95), max: Math.round(sorted.at(-1) ?? 0), samples: sorted.length };
  }

  private terminal = new Set<string>();
  /** The terminal status each job was last seen with. */
  readonly statuses = new Map<string, string>();

  /** Polls every accepted job until each is terminal or `timeoutMs` passes. */
  async waitAllTerminal(timeoutMs: number): Promise<{ terminal: number }> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const open = this.jobs.filter((j) => !this.terminal.has(j.id));
      if (!open.length) break;
      for (const job of open.slice(0, 100)) {
        const t = this.tenants.find((x) => x.organizationId === job.organizationId)!;
        const res = await t.fetch(`/api/v1/jobs/${job.id}`).catch(() => undefined);
        if (!res?.ok) {
          void res?.body?.cancel();
          continue;
        }
        const { status } = (await res.json()) as { status: string };
        if (['completed', 'failed', 'cancelled'].includes(status)) {
          this.terminal.add(job.id);
          this.statuses.set(job.id, status);
        }
      }
      await sleep(1_000);
    }
    return { terminal: this.terminal.size };
  }

  tenantOf(organizationId: string): Tenant {
    return this.tenants.find((t) => t.organizationId === organizationId)!;
  }
}
