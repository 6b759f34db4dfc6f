import type { Principal } from '../auth/principal.js';
import { reply, type AppContext, type Route } from '../handler.js';
import { jsonBody } from '../middleware/body.js';
import { toJob, toJobArtifact } from '../mappers.js';
import type { Services } from '../services/index.js';

/** Who asked, as the job records it. */
const actor = (p: Principal): string => (p.apiKeyId ? `api_key:${p.apiKeyId}` : `user:${p.userId}`);

async function cancel(s: Services, ctx: AppContext, id: string, reason: string | undefined) {
  const job = await s.jobLifecycle.cancel(ctx.state.organizationId, id, { by: actor(ctx.state.principal!), ...(reason ? { reason } : {}) });
  ctx.state.jobId = job.id;
  ctx.state.workflowId = job.workflowId ?? undefined;
  return job;
}

export const cancelJob = (s: Services, baseUrl: string, bodyLimitKb: number): Route<'cancelJob'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { path, body }) {
    const job = await cancel(s, ctx, path.id, body?.reason);
    reply(ctx, 'cancelJob', 200, toJob(job, baseUrl, await s.jobLifecycle.steps(job.id)));
  },
});

export const deleteJob = (s: Services, baseUrl: string, bodyLimitKb: number): Route<'deleteJob'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { path, body }) {
    ctx.state.jobId = path.id;
    if (await s.jobLifecycle.remove(ctx.state.organizationId, path.id)) {
      ctx.status = 204;
      return;
    }
    const job = await cancel(s, ctx, path.id, body?.reason);
    reply(ctx, 'deleteJob', 200, toJob(job, baseUrl, await s.jobLifecycle.steps(job.id)));
  },
});

export const retryJob = (s: Services, baseUrl: string): Route<'retryJob'> => ({
  async handle(ctx, { path }) {
    const job = await s.jobLifecycle.retry(ctx.state.organizationId, path.id, actor(ctx.state.principal!));
    ctx.state.jobId = job.id;
    ctx.state.workflowId = job.workflowId ?? undefined;
    reply(ctx, 'retryJob', 202, toJob(job, baseUrl, await s.jobLifecycle.steps(job.id)));
  },
});

export const listJobArtifacts = (s: Services, baseUrl: string): Route<'listJobArtifacts'> => ({
  async handle(ctx, { path }) {
    const artifacts = await s.jobLifecycle.artifacts(await s.shares.jobScope(ctx.state.principal!, path.id), path.id);
    reply(ctx, 'listJobArtifacts', 200, { artifacts: artifacts.map((a) => toJobArtifact(a, path.id, baseUrl)) });
  },
});

export const getJobArtifact = (s: Services): Route<'getJobArtifact'> => ({
  async handle(ctx, { path }) {
    const artifact = await s.jobLifecycle.artifact(await s.shares.jobScope(ctx.state.principal!, path.id), path.id, path.artifactId);
    if (artifact.kind === 'json') {
      ctx.body = artifact.data;
      return;
    }
    ctx.attachment(artifact.filename);
    ctx.type = artifact.mimeType;
    ctx.length = artifact.size;
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = artifact.stream;
  },
});

export const streamJobEvents = (s: Services): Route<'streamJobEvents'> => ({
  async handle(ctx, { path }) {
    const lastEventId = Number(ctx.get('last-event-id') || 0);
    const release = s.streams.take(ctx.state.organizationId);
    const closed = new AbortController();
    ctx.req.once('close', () => closed.abort());
    // The response closes when the stream ends and when the client goes away.
    ctx.res.once('close', release);
    let stream;
    try {
      stream = await s.jobLifecycle.events(await s.shares.jobScope(ctx.state.principal!, path.id), path.id, lastEventId, closed.signal);
    } catch (err) {
      release();
      throw err;
    }
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.set('Cache-Control', 'no-cache, no-transform');
    // Reverse proxies (nginx) must pass events through as they come.
    ctx.set('X-Accel-Buffering', 'no');
    ctx.body = stream;
  },
});
