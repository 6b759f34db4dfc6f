// A failed job's error.code is one of the codes the spec lists (JobError.code's enum), whatever
// produced it: the workflow's description of a step's failure, the job store's writes, the
// reconciler's reasons, the submission's own failure, every action's error types.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import { loadSpec, type JsonObject } from '#api/openapi/document.js';
import { loadActionRegistry } from '#domain/actions/registry.js';
import { AI_PROVIDER_ERROR, AI_PROVIDER_UNAVAILABLE } from '#lib/ai/ports.js';
import { INVALID_INPUT } from '#domain/actions/types.js';
import { TIMEOUT } from '#domain/media/ffmpeg.js';
import { RECONCILE_OTHER, RECONCILE_REASONS } from '#worker/reconcile.js';
import { INFRASTRUCTURE, JOB_ERROR_CODES, jobErrorCode } from '#workflows/job-errors.js';
import { describeFailure } from '#workflows/job-helpers.js';

const schemas = (loadSpec().components as JsonObject).schemas as Record<string, { properties: Record<string, { enum?: string[] }> }>;
const specCodes = new Set(schemas.JobError!.properties.code!.enum);

test('the spec lists exactly the codes the code knows', () => {
  expect([...specCodes].sort()).toEqual([...JOB_ERROR_CODES].sort());
});

test("every action's error types reach the client as documented codes of their own", async () => {
  const registry = await loadActionRegistry();
  const types = new Set([INVALID_INPUT, AI_PROVIDER_ERROR, TIMEOUT, ...registry.list().flatMap((a) => a.nonRetryableErrors)]);
  for (const type of types) expect({ type, code: jobErrorCode(type) }).toEqual({ type, code: type });
  expect(jobErrorCode(AI_PROVIDER_UNAVAILABLE)).toBe('AI_PROVIDER_ERROR');
});

test('failure types the activities raise by name are documented', () => {
  // Every literal type given to ApplicationFailure.nonRetryable/create in the step's activities.
  const files = ['activities/run-action.ts', 'activities/run-step.ts', 'activities/transcription/index.ts', ...walk('domain/actions')];
  const literals = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/nonRetryable\([^;]*?, '([A-Z_]+)'\)|type: '([A-Z_]+)'/g)].map((m) => m[1] ?? m[2]!));
  expect(literals.length).toBeGreaterThan(0);
  expect(literals.filter((t) => !specCodes.has(t))).toEqual([]);
});

test("the reconciler's and the submission's codes are documented", () => {
  for (const r of [...Object.values(RECONCILE_REASONS), RECONCILE_OTHER]) expect(specCodes).toContain(r.code);
  const submission = readFileSync('api/services/job-service.ts', 'utf8').match(/failSubmission\(id, \{ code: '([A-Z_]+)'/);
  expect(submission).not.toBeNull();
  expect(specCodes).toContain(submission![1]);
});

test('an undocumented failure type becomes PROCESSING_ERROR, an outage INFRASTRUCTURE_UNAVAILABLE', () => {
  // What a plain `connect ECONNREFUSED` thrown in an activity used to give: type "Error".
  const plain = new ActivityFailure('activity failed', 'runJobStep', 'act', 'MAXIMUM_ATTEMPTS_REACHED', 'worker', ApplicationFailure.create({ type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:9000' }));
  expect(describeFailure(plain)).toEqual({ code: 'PROCESSING_ERROR', message: 'connect ECONNREFUSED 127.0.0.1:9000' });
  const outage = new ActivityFailure('activity failed', 'runJobStep', 'act', 'MAXIMUM_ATTEMPTS_REACHED', 'worker', ApplicationFailure.create({ type: INFRASTRUCTURE, message: 'storage down' }));
  expect(describeFailure(outage).code).toBe('INFRASTRUCTURE_UNAVAILABLE');
  expect(describeFailure(new TimeoutFailure('timed out', undefined, 'START_TO_CLOSE')).code).toBe('TIMEOUT');
  for (const odd of [undefined, null, '', 'Error', 'TypeError', 'whatever']) expect(specCodes).toContain(jobErrorCode(odd));
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return walk(p);
    return p.endsWith('.ts') && !p.includes('.test.') ? [p] : [];
  });
}
