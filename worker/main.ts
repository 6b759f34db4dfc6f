import { mkdir } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { systemClock } from '../activities/deps.js';
import { loadConfig, type Config } from '../lib/config.js';
import { createAiProviders } from '../lib/ai/index.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { connectionOptions } from '../lib/temporal-connection.js';
import { installTemporalLogging } from '../lib/temporal-logging.js';
import { createMetrics } from '../lib/metrics.js';
import { actionLimits, createCommon } from '../lib/runtime.js';
import { setupTracing } from '../lib/tracing.js';
import { bundleOptions } from './bundle.js';
import { startWorkerHttp } from './http.js';

/**
 * Creates the worker. Production loads the prebuilt bundle (WORKFLOW_BUNDLE_PATH); development
 * bundles from source at start; tests pass a bundle they built once per file.
 */
export async function createWorker(config: Config, bundle?: WorkflowBundle, opts: { logger?: Logger } = {}) {
  const tracing = setupTracing(config.telemetry, 'worker');
  const logger = opts.logger ?? createLogger(config.logLevel, 'worker');
  const metrics = createMetrics('worker');
  installTemporalLogging(logger, config.telemetry.temporalMetricsBind);
  const workflowBundle =
    bundle ??
    (config.temporal.workflowBundlePath
      ? { codePath: config.temporal.workflowBundlePath }
      : await bundleWorkflowCode({ ...bundleOptions(), logger: bundlerLogger(logger) }));
  const { orm, storage, actions } = await createCommon(config);
  await mkdir(config.worker.tmpDir, { recursive: true });
  const connection = await NativeConnection.connect(connectionOptions(config.temporal));
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle,
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
      storage,
      actions,
      limits: actionLimits(config),
      ai: createAiProviders(config.ai),
      logger,
      clock: systemClock,
      tmpDir: config.worker.tmpDir,
      retentionDays: config.media.retentionDays,
      metrics,
    }),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    shutdownGraceTime: config.http.shutdownGraceMs,
  });
  const close = async () => {
    await connection.close();
    await orm.close();
  };
  return { worker, close, logger, metrics };
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
  const bind = config.telemetry.temporalMetricsBind;
  const http = await startWorkerHttp(config.telemetry.workerMetricsPort, metrics, bind ? `http://${bind}/metrics` : undefined);
  logger.info({ taskQueue: config.temporal.taskQueue, metricsPort: config.telemetry.workerMetricsPort }, 'worker polling');
  // Worker.run() handles SIGINT/SIGTERM: it stops polling and lets running activities finish.
  await worker.run();
  http.close();
  await close();
}
