import type { Payload } from '@temporalio/common';
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';

/** The header OpenTelemetry's Temporal interceptors carry a trace context in (their TRACE_HEADER). */
export const TRACE_HEADER = '_tracer-data';

/**
 * The workflow interceptors of a bundle without OpenTelemetry's (worker/bundle.ts): no spans and
 * no OpenTelemetry code, but the trace context the workflow was started with goes on with every
 * activity, child workflow and continue-as-new it issues, so the activities' log lines carry the
 * request's trace id. Headers are not part of the determinism check: either bundle replays the
 * other's histories.
 */
export const interceptors: WorkflowInterceptorsFactory = () => {
  let trace: Payload | undefined;
  const withTrace = <T extends { headers: Record<string, Payload> }>(input: T): T =>
    trace && !input.headers[TRACE_HEADER] ? { ...input, headers: { ...input.headers, [TRACE_HEADER]: trace } } : input;
  return {
    inbound: [
      {
        execute(input, next) {
          trace = input.headers[TRACE_HEADER];
          return next(input);
        },
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => next(withTrace(input)),
        scheduleLocalActivity: (input, next) => next(withTrace(input)),
        startChildWorkflowExecution: (input, next) => next(withTrace(input)),
        continueAsNew: (input, next) => next(withTrace(input)),
      },
    ],
  };
};
