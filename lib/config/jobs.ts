import type { InfraRetryPolicy } from '../infra-errors.js';
import type { EnvReader } from './reader.js';

export interface LifecycleConfig {
  /** Most steps one job may have (MAX_PIPELINE_STEPS). */
  maxPipelineSteps: number;
  /** How long a failed job's workflow waits for a retry signal (JOB_RETRY_WINDOW); later retries start a new run. */
  retryWindowMs: number;
  /** Retries allowed per job (JOB_MAX_RETRIES). */
  maxRetries: number;
  /** How long POST /jobs/{id}/cancel waits for the running step to confirm (JOB_CANCEL_WAIT). */
  cancelWaitMs: number;
  /**
   * Routing by input size: under highMaxBytes to `<TEMPORAL_TASK_QUEUE>-high`, over lowMinBytes to
   * `<TEMPORAL_TASK_QUEUE>-low`, else `<TEMPORAL_TASK_QUEUE>`.
   */
  routing: { highMaxBytes: number; lowMinBytes: number };
  /** Queues this worker process polls (WORKER_TASK_QUEUES); default: the three of TEMPORAL_TASK_QUEUE. */
  workerTaskQueues: string[];
  /** Heartbeats reach Temporal at least this often, which bounds how long a cancellation takes to arrive. */
  heartbeatThrottleMs: number;
  /** The worker's sweep for jobs whose workflow closed without recording an outcome (0: off). */
  reconcile: { intervalMs: number; graceMs: number };
}

/** The Temporal Schedule that deletes expired media (created by the worker at start-up). */
export interface RetentionConfig {
  scheduleId: string;
  sweepIntervalSeconds: number;
  batchSize: number;
}

/** Queue names for jobs of each size class, derived from the base task queue. */
export const jobQueues = (base: string) => ({ high: `${base}-high`, normal: base, low: `${base}-low` });

export function readLifecycle(r: EnvReader, { taskQueue }: { taskQueue: string }): LifecycleConfig {
  const highMaxBytes = r.size('JOB_QUEUE_HIGH_MAX_MB', '5', { unit: 'MiB' });
  const lowMinBytes = r.size('JOB_QUEUE_LOW_MIN_MB', '20', { unit: 'MiB' });
  if (lowMinBytes < highMaxBytes) r.problem('JOB_QUEUE_LOW_MIN_MB must not be below JOB_QUEUE_HIGH_MAX_MB');
  const queues = jobQueues(taskQueue);
  const workerTaskQueues = r.list('WORKER_TASK_QUEUES');
  return {
    maxPipelineSteps: r.int('MAX_PIPELINE_STEPS', 10, { min: 1, max: 100 }),
    retryWindowMs: r.duration('JOB_RETRY_WINDOW', '24h', { unit: 's', as: 'ms' }),
    maxRetries: r.int('JOB_MAX_RETRIES', 3, { max: 100 }),
    cancelWaitMs: r.duration('JOB_CANCEL_WAIT', '10s', { unit: 's', as: 'ms' }),
    routing: { highMaxBytes, lowMinBytes },
    workerTaskQueues: workerTaskQueues.length ? workerTaskQueues : [queues.high, queues.normal, queues.low],
    heartbeatThrottleMs: r.duration('WORKER_HEARTBEAT_THROTTLE_MS', '250ms', { unit: 'ms', min: '100ms', max: '60s' }),
    reconcile: {
      intervalMs: r.duration('JOB_RECONCILE_INTERVAL', '60s', { unit: 's', as: 'ms' }),
      graceMs: r.duration('JOB_RECONCILE_GRACE', '60s', { unit: 's', as: 'ms' }),
    },
  };
}

/**
 * How failures of storage, Postgres, Temporal or the network between them are retried, apart from
 * an action's own attempts (INFRA_RETRY_INITIAL_MS, INFRA_RETRY_MAX_INTERVAL_MS, INFRA_RETRY_FOR):
 * a job step waits this long for an outage to end before it fails with INFRASTRUCTURE_UNAVAILABLE.
 */
export function readInfraRetry(r: EnvReader): InfraRetryPolicy {
  const policy = {
    initialIntervalMs: r.duration('INFRA_RETRY_INITIAL_MS', '1s', { unit: 'ms', min: '10ms', max: '10m' }),
    maximumIntervalMs: r.duration('INFRA_RETRY_MAX_INTERVAL_MS', '30s', { unit: 'ms', min: '10ms', max: '1h' }),
    giveUpAfterMs: r.duration('INFRA_RETRY_FOR', '15m', { unit: 's', as: 'ms', min: '1s' }),
  };
  if (policy.maximumIntervalMs < policy.initialIntervalMs) r.problem('INFRA_RETRY_MAX_INTERVAL_MS must not be below INFRA_RETRY_INITIAL_MS');
  return policy;
}

export function readRetention(r: EnvReader): RetentionConfig {
  return {
    scheduleId: r.string('RETENTION_SCHEDULE_ID', 'mediaflow-retention'),
    // At least a minute, so a typo cannot hammer storage.
    sweepIntervalSeconds: r.duration('RETENTION_SWEEP_INTERVAL', '1h', { unit: 's', min: '60s' }),
    batchSize: r.int('RETENTION_BATCH_SIZE', 100, { min: 1, max: 10_000 }),
  };
}
