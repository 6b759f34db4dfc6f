import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { createLogger } from '#lib/logger.js';
import { freePort } from '../scripts/services.js';
import { startWorkerHttp } from '#worker/http.js';
import { TRACE_HEADER } from '#workflows/trace-context.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';

const lines: Record<string, any>[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});

let h: Harness;
let temporalMetricsPort: number;
beforeAll(async () => {
  temporalMetricsPort = await freePort();
  h = await startHarness({
    worker: true,
    logger: createLogger('info', 'test', sink),
    env: { TEMPORAL_METRICS_BIND: `127.0.0.1:${temporalMetricsPort}` },
  });
});
afterAll(async () => {
  await h?.stop();
});

async function runJob(): Promise<{ id: string; workflow_id: string }> {
  const media = (await (await h.upload(await makeJpeg(120, 90), 'm.jpg')).json()) as { id: string };
  const job = (await (await h.post('/api/v1/process', { media_id: media.id, action_id: 'img_resize', parameters: { width: 60 } })).json()) as { id: string; workflow_id: string };
  await waitFor(async () => {
    const j = (await (await h.fetch(`/api/v1/jobs/${job.id}`)).json()) as { status: string };
    return j.status === 'completed' ? j : undefined;
  });
  return job;
}

const sample = (text: string, name: string, labels: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
};

test('one trace id runs from the HTTP request through the workflow to the activity', async () => {
  const job = await runJob();
  const submit = lines.find((l) => l.msg === 'request' && l.jobId === job.id);
  expect(submit).toMatchObject({ method: 'POST', route: '/api/v1/process', status: 202, workflowId: job.workflow_id, trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
  const activity = lines.find((l) => l.msg === 'action completed' && l.jobId === job.id);
  expect(activity).toBeDefined();
  expect(activity!.trace_id).toBe(submit!.trace_id);
  // Without an exporter the worker runs the bundle without OpenTelemetry's workflow interceptors:
  // the workflow hands the trace on in the header those interceptors read.
  expect(TRACE_HEADER).toBe(createRequire(import.meta.url)('@temporalio/interceptors-opentelemetry/lib/instrumentation').TRACE_HEADER);
});

test('API /metrics shows requests by route, uploads and the job queue moving', async () => {
  const read = async () => (await h.fetch('/metrics')).text();
  const before = await read();
  await runJob();
  const after = await read();
  const route = 'route="/api/v1/jobs/:id"';
  expect(sample(after, 'http_requests_total', route)).toBeGreaterThan(sample(before, 'http_requests_total', route));
  expect(sample(after, 'mediaflow_upload_bytes_total', 'media_type="image"')).toBeGreaterThan(sample(before, 'mediaflow_upload_bytes_total', 'media_type="image"'));
  for (const name of ['http_request_duration_seconds_bucket', 'mediaflow_upload_duration_seconds_count', 'mediaflow_queue_size', 'mediaflow_storage_bytes', 'mediaflow_db_connections']) {
    expect(after).toContain(name);
  }
  expect(Number(after.match(/^mediaflow_storage_bytes\{[^}]*\} (\d+)/m)?.[1])).toBeGreaterThan(0);
});

test('worker /metrics shows action durations and the Temporal SDK worker metrics', async () => {
  const port = await freePort();
  const server = await startWorkerHttp(port, h.workerMetrics!, `http://127.0.0.1:${temporalMetricsPort}/metrics`);
  try {
    await runJob();
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(sample(text, 'mediaflow_action_duration_seconds_count', 'action_id="img_resize",outcome="completed"')).toBeGreaterThan(0);
    expect(sample(text, 'mediaflow_job_processing_duration_seconds_count', 'action_id="img_resize",status="completed"')).toBeGreaterThan(0);
    expect(text).toMatch(/^temporal_\w+/m);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  } finally {
    server.close();
  }
});

test('secrets are redacted from log lines', () => {
  const out: string[] = [];
  const logger = createLogger('info', 'redaction', new Writable({ write: (c, _e, d) => (out.push(String(c)), d()) }));
  logger.info({ req: { headers: { authorization: 'Bearer eyJ.secret', 'x-api-key': 'mf_abc_123' } }, password: 'hunter2', nested: { token: 't0k3n', api_key: 'k' } }, 'login');
  const text = out.join('');
  for (const secret of ['eyJ.secret', 'mf_abc_123', 'hunter2', 't0k3n']) expect(text).not.toContain(secret);
  expect(text).toContain('[redacted]');
});
