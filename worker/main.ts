import { mkdir } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions, type WorkflowBundle } from '@temporalio/worker';
import { createActivities } from '#activities/index.js';
import { systemClock } from '#activities/deps.js';
import { loadConfig, type Config } from '#lib/config.js';
import { createAiProviders, withProviderKeys } from '#lib/ai/index.js';
import { createLogger, type Logger } from '#lib/logger.js';
import { dataConverter } from '#lib/payload-codec.js';
import { connectionOptions } from '#lib/temporal-connection.js';
import { installTemporalLogging } from '#lib/temporal-logging.js';
import { createMetrics } from '#lib/metrics.js';
import { actionLimits, createCommon } from '#domain/runtime.js';
import { createFfmpeg } from '#domain/media/ffmpeg.js';
import { setupTracing } from '#lib/tracing.js';
import { bundleOptions, prebuiltBundle } from './bundle.js';
import { importDeps } from './import-deps.js';
import { startWorkerHttp } from './http.js';
import { ensureRetentionSchedule } from './retention-schedule.js';
import { createJobReconciler } from './reconcile.js';
import { WorkerGroup } from './worker-group.js';
import { createTemporalClient } from '#lib/temporal-client.js';
import { createJobStore } from '#domain/job-store.js';
import { waitFor } from '#lib/wait-for.js';

/**
 * Creates the worker. Production loads the prebuilt bundle (WORKFLOW_BUNDLE_PATH); development
 * bundles from source at start; tests pass a bundle they built once per file.
 */
export async function createWorker(config: Config, bundle?: WorkflowBundle, opts: { logger?: Logger } = {}) {
  const tracing = setupTracing(config.telemetry, 'worker');
  const logger = opts.logger ?? createLogger(config.logLevel, 'worker');
  const metrics = createMetrics('worker');
  installTemporalLogging(logger, config.telemetry.temporalMetricsBind);
  // Workflows carry the trace on only where spans are exported (worker/bundle.ts says why).
  const traced = config.telemetry.otlpTracesEndpoint !== undefined;
  const prebuilt = config.temporal.workflowBundlePath;
  const workflowBundle =
    bundle ??
    (prebuilt
      ? { codePath: loadedBundle(prebuilt, traced, logger) }
      : await bundleWorkflowCode({ ...bundleOptions({ traced }), logger: bundlerLogger(logger) }));
  // Started before Postgres, Temporal or storage are up: it waits for them, saying so in the log.
  const wait = { logger, policy: config.infraRetry };
  const [{ orm, storage, actions }, connection] = await Promise.all([
    createCommon(config, { logger }),
    waitFor('temporal', () => NativeConnection.connect(connectionOptions(config.temporal)), wait),
  ]);
  await mkdir(config.worker.tmpDir, { recursive: true });
  const jobs = createJobStore({
    orm,
    clock: systemClock,
    actions,
    retentionDays: config.media.retentionDays,
    onFinished: (job) => {
      if (job.processingTimeMs != null) metrics.jobDuration.observe({ action_id: job.actionId, status: job.status }, job.processingTimeMs / 1000);
    },
  });
  // One Worker per task queue (jobs are routed by input size: <queue>-high, <queue>, <queue>-low).
  const options: WorkerOptions = {
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle,
    // Heartbeats carry cancellations back: a short throttle makes a cancel take effect within seconds.
    maxHeartbeatThrottleInterval: config.lifecycle.heartbeatThrottleMs,
    // Encrypts every payload the worker sends to history (lib/payload-codec.ts).
    dataConverter: dataConverter(config.temporal),
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer: tracing.tracer }),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
    activities: createActivities({
      orm,
      jobs,
      storage,
      actions,
      limits: actionLimits(config),
      ffmpeg: createFfmpeg(config.media.ffmpeg),
      ai: createAiProviders(config.ai, actions.aiDefaults()),
      aiWithKeys: (keys) => createAiProviders(withProviderKeys(config.ai, keys), actions.aiDefaults()),
      logger,
      clock: systemClock,
      tmpDir: config.worker.tmpDir,
      retentionDays: config.media.retentionDays,
      metrics,
      thumbnail: config.media.image.thumbnail,
      transcription: { openaiMaxAudioBytes: config.ai.openai.maxAudioBytes, localMaxPieceSeconds: config.ai.local.maxPieceSeconds },
      webhooks: { ...config.webhooks, taskQueue: config.temporal.taskQueue, apiBaseUrl: config.http.publicUrl },
      imports: importDeps(config, { orm, storage, actions, logger, metrics, tracer: tracing.tracer }),
    }),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    shutdownGraceTime: config.http.shutdownGraceMs,
  };
  const temporal = await waitFor('temporal', () => createTemporalClient(config.temporal), wait);
  const reconciler = createJobReconciler({ orm, jobs, temporal, logger, ...config.lifecycle.reconcile });
  const workers = [];
  for (const taskQueue of config.lifecycle.workerTaskQueues) workers.push(await Worker.create({ ...options, taskQueue }));
  const worker = new WorkerGroup(workers, [reconciler]);
  const close = async () => {
    await temporal.connection.close();
    await connection.close();
    await orm.close();
  };
  return { worker, close, logger, metrics };
}

function loadedBundle(plain: string, traced: boolean, logger: Logger): string {
  const { path, missing } = prebuiltBundle(plain, traced);
  if (missing) logger.warn({ bundle: plain, missing }, 'no traced workflow bundle beside the prebuilt one: workflows run without spans of their own');
  return path;
}

// webpack's progress lines are noise at info level.
const bundlerLogger = (logger: Logger) => ({
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: object) => logger.warn(meta ?? {}, message),
  error: (message: string, meta?: object) => logger.error(meta ?? {}, message),
  log: () => undefined,
});

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const config = loadConfig();
  const { worker, close, logger, metrics } = await createWorker(config);
  // The retention sweep is housekeeping: a worker that cannot set up its Schedule still runs jobs.
  const scheduler = await waitFor('temporal', () => createTemporalClient(config.temporal), { logger, policy: config.infraRetry });
  await ensureRetentionSchedule(scheduler, config).catch((err: unknown) => logger.error({ err }, 'could not create the retention schedule'));
  await scheduler.connection.close();
  const bind = config.telemetry.temporalMetricsBind;
  const http = await startWorkerHttp(config.telemetry.workerMetricsPort, metrics, bind ? `http://${bind}/metrics` : undefined);
  logger.info({ taskQueues: config.lifecycle.workerTaskQueues, metricsPort: config.telemetry.workerMetricsPort }, 'worker polling');
  // Worker.run() handles SIGINT/SIGTERM: it stops polling and lets running activities finish.
  await worker.run();
  http.close();
  await close();
}
