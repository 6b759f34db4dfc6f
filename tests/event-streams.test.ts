// Event streams are bounded: a cap per organization and per instance (429 with Retry-After), and
// however many are open, they share one read per job instead of each polling the database.
import pg from 'pg';
import { JOB_EVENTS_CHANNEL } from '#entities/job-event-notify.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { makeJpeg } from './support/media.js';
import type { Tenant } from './support/tenants.js';

let h: Harness;
beforeAll(async () => {
  // No worker: submitted jobs stay queued, so their streams stay open until the test ends them.
  h = await startHarness({ env: { SSE_MAX_STREAMS_PER_ORG: '200', SSE_MAX_STREAMS: '203' } });
});
/** Every stream a test opened, aborted after it: a failed test must not hold the caps for the next. */
const opened: { abort(): void }[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.abort();
});
afterAll(async () => {
  await h?.stop();
});

const json = async (res: Response) => (await res.json()) as Record<string, any>;

async function queuedJob(t: Tenant): Promise<string> {
  const media = await json(await t.upload(await makeJpeg(16, 16), 'j.jpg', 'image/jpeg'));
  const res = await t.post('/api/v1/process', { media_id: media.id, action_id: 'img_resize', parameters: { width: 8 } });
  expect(res.status).toBe(202);
  return (await json(res)).id as string;
}

/** An open stream: what it has received so far, and whether it ended. */
function open(t: Tenant, jobId: string) {
  const abort = new AbortController();
  const state = { status: 0, text: '', ended: false, abort: () => abort.abort() };
  opened.push(state);
  const ready = t.fetch(`/api/v1/jobs/${jobId}/events`, { signal: abort.signal }).then(async (res) => {
    state.status = res.status;
    if (res.status !== 200) {
      state.text = await res.text();
      state.ended = true;
      return res;
    }
    void (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body!) state.text += decoder.decode(chunk as Uint8Array, { stream: true });
      } catch {
        // aborted
      }
      state.ended = true;
    })();
    return res;
  });
  return { state, ready };
}

/**
 * A backend sends its statistics at most once a second, and one that goes idle with some pending
 * may hold them for up to 10 s: the streams' own requests would land in a later window. After a
 * second, one statement on every pool connection has each send what it holds.
 */
async function flushStatistics(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1100));
  await Promise.all(Array.from({ length: 30 }, () => h.common.orm.em.fork().execute(`select pg_sleep(0.05)`)));
}

/** Transactions committed in the test database so far (every query of the pool is one). */
async function commits(): Promise<number> {
  const [row] = await h.common.orm.em.fork().execute<{ n: string }[]>(`select xact_commit as n from pg_stat_database where datname = current_database()`);
  return Number(row!.n);
}

test('200 streams cost a bounded number of queries, and a new event reaches them all through one notification', async () => {
  const jobs = [await queuedJob(h.tenant), await queuedJob(h.tenant)];
  const streams = Array.from({ length: 200 }, (_, i) => open(h.tenant, jobs[i % 2]!));
  await Promise.all(streams.map((s) => s.ready));
  expect(streams.every((s) => s.state.status === 200)).toBe(true);
  // Each stream got the backlog (the queued status event) and stays open.
  await waitFor(async () => (streams.every((s) => s.state.text.includes('event: status')) ? true : undefined), 20_000);

  // Idle streams: one poll each would be 200 x 2 queries a second, 800 in these 2 s. The count is
  // the whole database's, so the platform's own background work (the worker, the outbox, usage
  // batches, up to some 60 in a loaded run) counts too: well under one query per stream.
  await flushStatistics();
  const before = await commits();
  await new Promise((r) => setTimeout(r, 2000));
  const idle = (await commits()) - before;
  expect(idle).toBeLessThan(150);

  // An event written by anyone (here: as the job store does) reaches every stream of that job; a terminal one ends them.
  const em = h.common.orm.em.fork();
  await em.execute(`insert into job_events (job_id, type, data) values (?, 'progress', ?)`, [jobs[0], JSON.stringify({ progress: 0.5 })]);
  await em.execute(`update processing_jobs set status = 'completed', completed_at = now() where id = ?`, [jobs[0]]);
  await em.execute(`insert into job_events (job_id, type, data) values (?, 'status', ?)`, [jobs[0], JSON.stringify({ status: 'completed', progress: 1 })]);
  const first = streams.filter((_, i) => i % 2 === 0);
  await waitFor(async () => (first.every((s) => s.state.ended) ? true : undefined), 20_000);
  for (const s of first) {
    expect(s.state.text).toContain('"progress":0.5');
    expect(s.state.text).toContain('"status":"completed"');
  }
  // The other job's streams are untouched and still open.
  expect(streams.filter((_, i) => i % 2 === 1).some((s) => s.state.ended)).toBe(false);
  for (const s of streams) s.state.abort();
  await waitFor(async () => (streams.every((s) => s.state.ended) ? true : undefined), 10_000);
});

test('a stream ends when its job is over even without a terminal event (the sweep sees it)', async () => {
  const jobId = await queuedJob(h.tenant);
  const stream = open(h.tenant, jobId);
  await stream.ready;
  expect(stream.state.status).toBe(200);
  await waitFor(async () => (stream.state.text.includes('event: status') ? true : undefined), 10_000);
  // Ended behind the hub's back: no event, so no notification; only the sweep (every 5 s) can tell.
  await h.common.orm.em.fork().execute(`update processing_jobs set status = 'cancelled', completed_at = now() where id = ?`, [jobId]);
  await waitFor(async () => (stream.state.ended ? true : undefined), 15_000);
});

test('open streams are capped per organization and per instance: 429 RATE_LIMITED with Retry-After', async () => {
  const a = await h.newTenant();
  const b = await h.newTenant();
  const jobA = await queuedJob(a);
  const jobB = await queuedJob(b);
  // Wait for the previous test's streams to be released.
  await new Promise((r) => setTimeout(r, 500));
  const fromA = Array.from({ length: 200 }, () => open(a, jobA));
  await Promise.all(fromA.map((s) => s.ready));
  expect(fromA.every((s) => s.state.status === 200)).toBe(true);

  const refused = await a.fetch(`/api/v1/jobs/${jobA}/events`);
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  expect((await json(refused)).error).toMatchObject({ code: 'RATE_LIMITED', details: { reason: 'too_many_streams', scope: 'organization', limit: 200 } });

  // Another organization still gets streams, up to the instance's cap (203 in all).
  const fromB = Array.from({ length: 3 }, () => open(b, jobB));
  await Promise.all(fromB.map((s) => s.ready));
  expect(fromB.map((s) => s.state.status)).toEqual([200, 200, 200]);
  const full = await b.fetch(`/api/v1/jobs/00000000-0000-4000-8000-000000000000/events`);
  expect(full.status).toBe(429);
  expect((await json(full)).error).toMatchObject({ code: 'RATE_LIMITED', details: { scope: 'server', limit: 203 } });

  // A stream that ends gives its slot back.
  fromA[0]!.state.abort();
  await waitFor(async () => ((await b.fetch(`/api/v1/jobs/00000000-0000-4000-8000-000000000000/events`)).status === 404 ? true : undefined), 10_000);
  for (const s of [...fromA, ...fromB]) s.state.abort();
});

test('a submission commits without a notification (no stream can follow its job yet); the job\'s next event notifies', async () => {
  const listener = new pg.Client({ connectionString: h.config.database.url });
  await listener.connect();
  const heard: string[] = [];
  listener.on('notification', (m) => m.channel === JOB_EVENTS_CHANNEL && heard.push(m.payload ?? ''));
  try {
    await listener.query(`LISTEN ${JOB_EVENTS_CHANNEL}`);
    const jobId = await queuedJob(h.tenant);
    // A stream opened at once still gets the creation event (it reads the table).
    const stream = open(h.tenant, jobId);
    await stream.ready;
    await waitFor(async () => (stream.state.text.includes('"status":"queued"') ? true : undefined), 10_000);
    // The job's next event notifies; a marker sent after it says all before it has arrived (the
    // queue keeps commit order, and the submission committed before its reply).
    const em = h.common.orm.em.fork();
    await em.execute(`insert into job_events (job_id, type, data) values (?, 'progress', ?)`, [jobId, JSON.stringify({ progress: 0.25 })]);
    await em.execute(`select pg_notify(?, 'marker')`, [JOB_EVENTS_CHANNEL]);
    await waitFor(async () => (heard.includes('marker') ? true : undefined), 10_000);
    expect(heard.filter((id) => id === jobId)).toHaveLength(1);
    await waitFor(async () => (stream.state.text.includes('"progress":0.25') ? true : undefined), 10_000);
    stream.state.abort();
  } finally {
    await listener.end();
  }
});
