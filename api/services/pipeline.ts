import type { Client } from '@temporalio/client';
import type { ProviderName } from '#lib/ai/ports.js';
import type { ActionDefinition, ActionLimits, InputMeasures, MediaKind } from '#domain/actions/types.js';
import type { ActionRegistry } from '#domain/actions/registry.js';
import { jobQueues, type Config } from '#lib/config.js';
import { InvalidActionError, ValidationError } from '#lib/errors.js';
import type { FieldError } from '#lib/ajv.js';
import { searchAttributes } from '#workflows/search-attributes.js';
import type { PipelineStep, ProcessJobInput } from '#workflows/types.js';

export interface StepRequest {
  actionId: string;
  parameters: Record<string, unknown>;
}

/**
 * Checks a pipeline against the action catalogue: every action exists, its parameters are valid
 * (defaults applied), within the platform's limits (`limits`; the first step's also for `input`,
 * what the upload measured), and it applies to the media type flowing into it. A file result's
 * media type feeds the next step; a JSON result leaves the file (and its type) as it was.
 */
export function planPipeline(
  actions: ActionRegistry,
  inputMediaType: MediaKind,
  requested: StepRequest[],
  maxSteps: number,
  providers?: readonly ProviderName[],
  measured?: { limits: ActionLimits; input?: InputMeasures },
): PipelineStep[] {
  if (requested.length > maxSteps) {
    throw new ValidationError(`A job has at most ${maxSteps} steps`, {
      fields: [{ field: 'steps', location: 'body', message: `must not have more than ${maxSteps} items` }],
    });
  }
  const pipeline = requested.length > 1;
  let mediaType = inputMediaType;
  const problems: FieldError[] = [];
  const steps: PipelineStep[] = [];
  requested.forEach((req, index) => {
    const action = actions.get(req.actionId);
    const where = pipeline ? { step: index } : {};
    if (!action) throw new InvalidActionError(`Unknown action: ${req.actionId}`, { action_id: req.actionId, ...where });
    if (action.mediaType !== mediaType) {
      throw new InvalidActionError(
        `Action ${action.actionId} applies to ${action.mediaType} files, not ${mediaType}${pipeline ? ` (step ${index})` : ''}`,
        { action_id: action.actionId, media_type: mediaType, ...where },
      );
    }
    const parameters = structuredClone(req.parameters);
    const invalid = actions.validateParameters(action, parameters);
    const unavailable =
      invalid.length || !providers || !action.checkAvailability
        ? []
        : Object.entries(action.checkAvailability(parameters, providers)).map(([name, message]) => ({ field: `parameters.${name}`, location: 'body' as const, message }));
    // Only the first step's input is known here; a later step's is an earlier step's result.
    const overLimits =
      invalid.length || !measured || !action.checkLimits
        ? []
        : Object.entries(action.checkLimits(parameters, measured.limits, index === 0 ? measured.input : undefined)).map(([name, message]) => ({
            field: `parameters.${name}`,
            location: 'body' as const,
            message,
          }));
    for (const p of [...invalid, ...unavailable, ...overLimits]) {
      problems.push(pipeline ? { ...p, field: p.field.replace(/^parameters/, `steps[${index}].parameters`) } : p);
    }
    if (action.resultType === 'file') mediaType = outputMediaType(action);
    steps.push({ actionId: action.actionId, parameters, policy: policyOf(action) });
  });
  if (problems.length) throw new ValidationError('Invalid action parameters', { fields: problems });
  return steps;
}

/** The media type of a file action's output (an action may turn audio into an image, e.g. a waveform). */
export function outputMediaType(action: ActionDefinition): MediaKind {
  return action.outputMediaType ?? action.mediaType;
}

export const policyOf = (action: ActionDefinition): PipelineStep['policy'] => ({
  startToCloseMs: action.timeouts.startToCloseMs,
  heartbeatMs: action.timeouts.heartbeatMs,
  retry: action.retry,
  nonRetryableErrors: action.nonRetryableErrors,
  ...(action.pieces ? { runsInPieces: true } : {}),
});

/** Small inputs go to the high-priority queue and large ones to the low one, so small jobs do not wait behind large ones. */
export function taskQueueFor(config: Config, inputSizeBytes: number): string {
  const queues = jobQueues(config.temporal.taskQueue);
  const { highMaxBytes, lowMinBytes } = config.lifecycle.routing;
  if (inputSizeBytes < highMaxBytes) return queues.high;
  if (inputSizeBytes > lowMinBytes) return queues.low;
  return queues.normal;
}

export interface JobWorkflowStart {
  input: ProcessJobInput;
  inputFilename: string;
  inputSizeBytes: number;
  mediaType: MediaKind;
}

/** The job workflow's start options: queue by input size, search attributes, and a memo for operators. */
export function workflowStartOptions(config: Config, workflowId: string, start: JobWorkflowStart) {
  return {
    taskQueue: taskQueueFor(config, start.inputSizeBytes),
    workflowId,
    args: [start.input] as [ProcessJobInput],
    typedSearchAttributes: [
      { key: searchAttributes.organizationId, value: start.input.organizationId },
      { key: searchAttributes.jobStatus, value: 'queued' },
      { key: searchAttributes.actionIds, value: [...new Set(start.input.steps.map((s) => s.actionId))] },
      { key: searchAttributes.mediaType, value: start.mediaType },
    ],
    memo: { input_filename: start.inputFilename },
  };
}

export type TemporalClient = Client;
