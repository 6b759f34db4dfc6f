// Mediaflow's side of the benchmark: jobs submitted through POST /api/v1/process as several
// organizations, their end seen through Postgres LISTEN/NOTIFY from a trigger on job_events in the
// benchmark's own database: the platform is measured without being polled.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Harness } from '../../tests/support/harness.js';
import type { Tenant } from '../../tests/support/tenants.js';
import { CASES, MIME, type CaseName } from './workload.js';

const CHANNEL = 'mediaflow_bench_job_status';

export interface MediaflowClient {
  /** Submits one job of the case as organization `org` and resolves when it has completed. */
  run(name: CaseName, org?: number): Promise<void>;
  /** Times POST /jobs/{id}/cancel on a long audio job whose ffmpeg step is running. */
  cancelLatency(wavPath: string): Promise<{ ms: number; status: string }>;
  stop(): Promise<void>;
}

export async function startMediaflowClient(h: Harness, inputs: { jpeg: string; wav: string }, orgs: number): Promise<MediaflowClient> {
  const listener = new pg.Client({ connectionString: h.config.database.url });
  await listener.connect();
  await listener.query(`
    create or replace function mediaflow_bench_notify() returns trigger language plpgsql as $$
    begin
      if new.type = 'status' then perform pg_notify('${CHANNEL}', new.job_id::text || ' ' || (new.data->>'status')); end if;
      return new;
    end $$;
    drop trigger if exists mediaflow_bench_notify on job_events;
    create trigger mediaflow_bench_notify after insert on job_events for each row execute function mediaflow_bench_notify();`);
  await listener.query(`listen ${CHANNEL}`);
  // Status changes by job id; a job may finish before its POST /process reply is read.
  const seen = new Map<string, Set<string>>();
  const waiters = new Map<string, { status: string; resolve: () => void }[]>();
  listener.on('notification', ({ payload }) => {
    const [id, status] = (payload ?? '').split(' ') as [string, string];
    if (!seen.has(id)) seen.set(id, new Set());
    seen.get(id)!.add(status);
    for (const w of waiters.get(id) ?? []) if (w.status === status || (['failed', 'cancelled'].includes(status) && w.status === 'completed')) w.resolve();
  });
  const reached = (id: string, status: string) =>
    new Promise<void>((resolve) => {
      if (seen.get(id)?.has(status)) return resolve();
      waiters.set(id, [...(waiters.get(id) ?? []), { status, resolve }]);
    }).finally(() => waiters.delete(id));

  const tenants: Tenant[] = [h.tenant];
  while (tenants.length < orgs) tenants.push(await h.newTenant({ name: `Bench org ${tenants.length}` }));
  const upload = async (t: Tenant, file: string, name: string, type: string) => {
    const res = await t.upload(await readFile(file), name, type);
    const body = (await res.json()) as { id: string };
    if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(body)}`);
    return body.id;
  };
  const media = await Promise.all(
    tenants.map(async (t) => ({ jpeg: await upload(t, inputs.jpeg, 'photo.jpg', MIME.jpeg), wav: await upload(t, inputs.wav, 'speech.wav', MIME.wav) })),
  );

  async function submit(t: Tenant, body: Record<string, unknown>): Promise<string> {
    const res = await t.post('/api/v1/process', body);
    const job = (await res.json()) as { id: string; status: string };
    if (res.status !== 202) throw new Error(`POST /process: ${res.status} ${JSON.stringify(job)}`);
    return job.id;
  }
  const bodyOf = (name: CaseName, mediaId: string) => {
    const { steps } = CASES[name];
    return steps.length === 1
      ? { media_id: mediaId, action_id: steps[0]!.actionId, parameters: steps[0]!.parameters }
      : { media_id: mediaId, steps: steps.map((s) => ({ action_id: s.actionId, parameters: s.parameters })) };
  };

  return {
    async run(name, org = 0) {
      const ids = media[org]!;
      const id = await submit(tenants[org]!, bodyOf(name, CASES[name].input === 'jpeg' ? ids.jpeg : ids.wav));
      await reached(id, 'completed');
      if (!seen.get(id)?.has('completed')) throw new Error(`job ${id} did not complete: ${[...(seen.get(id) ?? [])].join(', ')}`);
      seen.delete(id);
    },
    async cancelLatency(wavPath) {
      await promisify(execFile)('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'anoisesrc=d=600:a=0.3:c=pink', '-ac', '1', '-ar', '22050', wavPath]);
      const mediaId = await upload(h.tenant, wavPath, 'long.wav', MIME.wav);
      const id = await submit(h.tenant, { media_id: mediaId, action_id: 'aud_format_convert', parameters: { format: 'mp3' } });
      await reached(id, 'processing');
      await new Promise((r) => setTimeout(r, 1500));
      const t0 = performance.now();
      const res = await h.post(`/api/v1/jobs/${id}/cancel`, { reason: 'benchmark' });
      const ms = performance.now() - t0;
      const body = (await res.json()) as { status?: string; error?: { code: string } };
      return { ms, status: body.status ?? `${res.status} ${body.error?.code}` };
    },
    async stop() {
      await listener.query(`drop trigger if exists mediaflow_bench_notify on job_events`).catch(() => undefined);
      await listener.end();
    },
  };
}
