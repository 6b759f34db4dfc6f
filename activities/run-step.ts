import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { describeInfraError, isInfraError } from '#lib/infra-errors.js';
import type { Logger } from '#lib/logger.js';
import { INFRASTRUCTURE } from '#workflows/job-errors.js';
import { ActionError } from '#domain/actions/types.js';
import { isTerminal, type TerminalJobStatus } from '#workflows/job-status.js';
import type { JobEventName, RunActionInput, StepResult } from '#workflows/types.js';
import type { ActivityDeps } from './deps.js';
import { createActionExecutor } from './run-action.js';
import { subscribedEvents } from './webhooks/publish.js';

export interface RunJobStepInput extends RunActionInput {
  stepIndex: number;
  totalSteps: number;
  /** Size of the step's input when it is an earlier step's file; null: the job's input file. */
  inputSizeBytes: number | null;
  /** The last step: its output completes the job, in the transaction that records it. */
  completesJob: boolean;
}

/**
 * The step's output, or the terminal status the job store already held (then nothing ran or was
 * recorded). `subscribed`: the job events the organization's webhook endpoints listen to, looked up
 * during the step, so that the workflow publishes no event nobody hears (absent from older workers).
 */
export type JobStepOutcome = { result: StepResult; subscribed?: JobEventName[] } | { terminal: TerminalJobStatus };

/**
 * One step of a job with its bookkeeping (see workflows/process-job-v2.ts for why it is folded in):
 * the job store starts the step (the job becomes processing, the attempt is counted), the action
 * runs, and the store records its output and usage, and for the last step completes the job, in
 * one transaction. A retried attempt whose predecessor already recorded the output returns that
 * output without running again; a job the store holds as terminal neither runs nor bills.
 */
export function createRunJobStep(deps: ActivityDeps) {
  const execute = createActionExecutor(deps);
  const runJobStep = async (input: RunJobStepInput): Promise<JobStepOutcome> => {
    const at = { jobId: input.jobId, stepIndex: input.stepIndex };
    const t0 = performance.now();
    // The store's start overlaps the input's download; the action runs only once the store agrees.
    const starting = deps.jobs.startStep(at);
    starting.catch(() => undefined);
    // Best effort: without it the workflow publishes as it always did.
    const subscribed = subscribedEvents(deps, input.organizationId).catch((err: unknown) => {
      deps.logger.warn({ err, jobId: input.jobId }, 'could not look up webhook subscriptions');
      return undefined;
    });
    let t1 = t0;
    const result = await execute(input, async () => {
      const start = await starting;
      t1 = performance.now();
      return start.run;
    });
    if (!result) {
      const start = await starting;
      if (start.run) throw new Error('the step ran no action');
      return 'terminal' in start ? { terminal: start.terminal } : withSubscribed({ result: start.result }, await subscribed);
    }
    const t2 = performance.now();
    const recorded = await deps.jobs.finishStep({ ...at, inputSizeBytes: input.inputSizeBytes, result, complete: input.completesJob });
    // The bookkeeping's share of the step (with the executor's own timings, the job engine's profile).
    deps.logger.info({ jobId: input.jobId, stepIndex: input.stepIndex, startMs: Math.round(t1 - t0), executeMs: Math.round(t2 - t1), recordMs: Math.round(performance.now() - t2) }, 'step recorded');
    if (!recorded.recorded && isTerminal(recorded.status) && recorded.status !== 'completed') {
      // The job ended (cancelled, reconciled) while the action ran: its output must not outlive it.
      if (result.type === 'file') {
        await deps.storage.remove(result.key).catch((err: unknown) => deps.logger.warn({ err, key: result.key }, 'could not remove an unrecorded result'));
      }
      return { terminal: recorded.status };
    }
    if ((input.attempt ?? Context.current().info.attempt) > 1 && !recorded.recorded) deps.logger.info({ jobId: input.jobId, stepIndex: input.stepIndex }, 'step output already recorded by an earlier attempt');
    return withSubscribed({ result }, await subscribed);
  };
  return async function runJobStepClassified(input: RunJobStepInput): Promise<JobStepOutcome> {
    try {
      return await runJobStep(input);
    } catch (err) {
      throw asInfraFailure(err, deps.logger, input);
    }
  };
}

const withSubscribed = (outcome: { result: StepResult }, subscribed: JobEventName[] | undefined): JobStepOutcome =>
  subscribed ? { ...outcome, subscribed } : outcome;

/**
 * An outage of storage, Postgres or Temporal becomes an INFRASTRUCTURE failure: the workflow
 * retries those with the infrastructure's policy, not the action's attempts. The action's own
 * failures (ApplicationFailure, ActionError) and cancellations pass as they are.
 */
export function asInfraFailure(err: unknown, logger: Logger, at: { jobId: string; stepIndex?: number }): unknown {
  if (err instanceof ApplicationFailure || err instanceof ActionError || Context.current().cancellationSignal.aborted || !isInfraError(err)) return err;
  const message = describeInfraError(err);
  logger.warn({ jobId: at.jobId, stepIndex: at.stepIndex, cause: message }, 'step interrupted by an infrastructure failure; retried apart from its attempts');
  return ApplicationFailure.create({ type: INFRASTRUCTURE, message, nonRetryable: false });
}
