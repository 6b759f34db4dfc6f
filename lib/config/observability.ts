import type { EnvReader } from './reader.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface TelemetryConfig {
  serviceName: string;
  otlpTracesEndpoint?: string;
  workerMetricsPort: number;
  /** The Temporal core's own Prometheus exporter; its text is appended to the worker's /metrics (empty: off). */
  temporalMetricsBind?: string;
}

export const readLogLevel = (r: EnvReader): string => r.enum('LOG_LEVEL', LOG_LEVELS, 'info');

export function readTelemetry(r: EnvReader): TelemetryConfig {
  // Standard OTel variables: the traces endpoint wins over the generic one.
  const traces = r.optional('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const generic = r.optional('OTEL_EXPORTER_OTLP_ENDPOINT');
  const bind = r.raw('TEMPORAL_METRICS_BIND');
  return {
    serviceName: r.string('OTEL_SERVICE_NAME', 'mediaflow'),
    otlpTracesEndpoint: traces ?? (generic ? `${generic.replace(/\/$/, '')}/v1/traces` : undefined),
    workerMetricsPort: r.int('WORKER_METRICS_PORT', 9464, { max: 65535 }),
    // Unset: the default bind; set and empty: no exporter.
    temporalMetricsBind: bind === undefined ? '127.0.0.1:9465' : bind || undefined,
  };
}
