// The fault suite's audit, once everything has settled: read from the database and the object
// store directly (not through the API under test) and from what the clients and the webhook
// receiver saw.
import { createHash } from 'node:crypto';
import { loadConfig } from '#lib/config.js';
import { JOB_ERROR_CODES } from '#workflows/job-errors.js';
import { rawBucket } from '../support/s3.js';
import type { Receiver } from '../support/webhook-receiver.js';
import type { Stack } from './stack.js';
import type { Workload } from './workload.js';

export interface Audit {
  completed: number;
  expectedFailures: number;
  webhookEventsChecked: number;
  usageChecked: number;
  objectsChecked: number;
  /** Accepted by the API, unknown to the database. */
  lost: string[];
  notTerminal: { id: string; status: string }[];
  /** Valid input that did not complete, or invalid input that did; or a code the spec does not list. */
  wronglyFailed: { id: string; kind: string; status: string; code: string | null; message: string | null }[];
  missingResults: { id: string; key: string }[];
  /** Objects under a job's prefix that no job or step refers to. */
  orphans: string[];
  missingUsage: { id: string; step: number }[];
  duplicateUsage: { id: string; step: number; n: number }[];
  missingWebhooks: { id: string; event: string }[];
  unreadableUploads: { mediaId: string; via: string; why: string }[];
}

type Row = Record<string, any>;

/** The `<event>/<job id>` pairs the receiver got. */
export function deliveredEvents(receiver: Receiver): Set<string> {
  const delivered = new Set<string>();
  for (const r of receiver.received) {
    try {
      const body = JSON.parse(r.body) as { type?: string; event?: string; data?: { job_id?: string } };
      delivered.add(`${body.type ?? body.event}/${body.data?.job_id}`);
    } catch {
      /* not a webhook */
    }
  }
  return delivered;
}

/**
 * Waits until every job seen completed or failed has had its terminal webhook delivered, or the
 * timeout. A job's row turns terminal inside its last step; the workflow publishes the event in
 * its next workflow task, which waits behind the load's backlog: late, but not lost.
 */
export async function waitForWebhooks(work: Workload, receiver: Receiver, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const expected = () => [...work.statuses].filter(([, s]) => s === 'completed' || s === 'failed').map(([id, s]) => `job.${s}/${id}`);
  for (;;) {
    const delivered = deliveredEvents(receiver);
    const missing = expected().filter((e) => !delivered.has(e)).length;
    if (!missing || Date.now() > deadline) return missing;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

export async function audit(stack: Stack, work: Workload, receiver: Receiver): Promise<Audit> {
  const pgModule = 'pg';
  const pg = (await import(pgModule)) as { default: { Client: new (o: { connectionString: string }) => { connect(): Promise<void>; query(q: string, p?: unknown[]): Promise<{ rows: Row[] }>; end(): Promise<void> } } };
  const db = new pg.default.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    const ids = work.jobs.map((j) => j.id);
    const jobs = new Map((await db.query('select id, status, error_code, error_message, total_steps from processing_jobs where id = any($1)', [ids])).rows.map((r) => [r.id as string, r]));
    const steps = (await db.query('select job_id, step_index, status, result from job_steps where job_id = any($1)', [ids])).rows;
    const usage = (await db.query('select job_id, step_index, count(*)::int as n from usage_records where job_id = any($1) group by 1, 2', [ids])).rows;
    const resultPaths = (await db.query('select j.id, m.storage_path from processing_jobs j join media_files m on m.id = j.result_media_id where j.id = any($1)', [ids])).rows;

    const a: Audit = {
      completed: 0, expectedFailures: 0, webhookEventsChecked: 0, usageChecked: 0, objectsChecked: 0,
      lost: [], notTerminal: [], wronglyFailed: [], missingResults: [], orphans: [], missingUsage: [], duplicateUsage: [], missingWebhooks: [], unreadableUploads: [],
    };
    const documented = new Set<string>(JOB_ERROR_CODES);
    for (const job of work.jobs) {
      const row = jobs.get(job.id);
      if (!row) {
        a.lost.push(job.id);
        continue;
      }
      if (!['completed', 'failed', 'cancelled'].includes(row.status)) a.notTerminal.push({ id: job.id, status: row.status });
      else if (row.status !== job.expect || (row.status === 'failed' && (!documented.has(row.error_code) || row.error_code !== 'INVALID_INPUT'))) {
        a.wronglyFailed.push({ id: job.id, kind: job.kind, status: row.status, code: row.error_code, message: row.error_message });
      } else if (row.status === 'completed') a.completed++;
      else a.expectedFailures++;
    }

    // Exactly one usage record per completed step (the table's unique key makes more than one a bug in it).
    const usageOf = new Map(usage.map((u) => [`${u.job_id}/${u.step_index}`, u.n as number]));
    for (const s of steps.filter((s) => s.status === 'completed')) {
      a.usageChecked++;
      const n = usageOf.get(`${s.job_id}/${s.step_index}`) ?? 0;
      if (n === 0) a.missingUsage.push({ id: s.job_id, step: s.step_index });
      if (n > 1) a.duplicateUsage.push({ id: s.job_id, step: s.step_index, n });
    }

    // Result objects: every key a job or step refers to exists; nothing else lies under a job's prefix.
    const referenced = new Set<string>([...steps.map((s) => s.result?.key).filter(Boolean), ...resultPaths.map((r) => r.storage_path)]);
    const config = loadConfig({ ...process.env, ...stack.env });
    const listed = new Set<string>();
    const known = new Set(ids);
    for (const name of await rawBucket(config.s3).keys('orgs/')) {
      const m = name.match(/^orgs\/[^/]+\/jobs\/([^/]+)\//);
      if (m && known.has(m[1]!)) listed.add(name);
    }
    for (const key of referenced) {
      a.objectsChecked++;
      const id = key.match(/\/jobs\/([^/]+)\//)?.[1];
      if (id && known.has(id) && !listed.has(key)) a.missingResults.push({ id, key });
    }
    for (const key of listed) if (!referenced.has(key)) a.orphans.push(key);

    // Every terminal event of a job reached the receiver at least once.
    const delivered = deliveredEvents(receiver);
    for (const job of work.jobs) {
      const status = jobs.get(job.id)?.status;
      if (status !== 'completed' && status !== 'failed') continue;
      a.webhookEventsChecked++;
      if (!delivered.has(`job.${status}/${job.id}`)) a.missingWebhooks.push({ id: job.id, event: `job.${status}` });
    }

    // Every upload the client saw succeed reads back with its checksum.
    for (const u of work.uploads) {
      const res = await work.tenantOf(u.organizationId).fetch(`/api/v1/media/${u.mediaId}/download`).catch((err: unknown) => err as Error);
      if (res instanceof Error) {
        a.unreadableUploads.push({ mediaId: u.mediaId, via: u.via, why: res.message });
        continue;
      }
      if (res.status !== 200) {
        a.unreadableUploads.push({ mediaId: u.mediaId, via: u.via, why: `status ${res.status}` });
        void res.body?.cancel();
        continue;
      }
      const digest = createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex');
      if (digest !== u.sha256) a.unreadableUploads.push({ mediaId: u.mediaId, via: u.via, why: 'checksum differs' });
    }
    return a;
  } finally {
    await db.end();
  }
}
