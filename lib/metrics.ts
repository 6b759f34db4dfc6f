import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** Prometheus metrics of one process (API or worker); each process has its own registry. */
export function createMetrics(component: 'api' | 'worker') {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({ name: 'http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    httpDuration: new Histogram({ name: 'http_request_duration_seconds', help: 'HTTP request latency by route and status', labelNames: ['method', 'route', 'status'], buckets: SECONDS, registers: [registry] }),
    uploadDuration: new Histogram({ name: 'mediaflow_upload_duration_seconds', help: 'Time to receive and store an upload', buckets: SECONDS, registers: [registry] }),
    uploadBytes: new Counter({ name: 'mediaflow_upload_bytes_total', help: 'Bytes of accepted uploads', labelNames: ['media_type'], registers: [registry] }),
    uploadErrors: new Counter({ name: 'mediaflow_upload_errors_total', help: 'Refused or failed uploads by error code', labelNames: ['code'], registers: [registry] }),
    jobDuration: new Histogram({ name: 'mediaflow_job_processing_duration_seconds', help: 'Job processing time, from start to a terminal state', labelNames: ['action_id', 'status'], buckets: SECONDS, registers: [registry] }),
    actionDuration: new Histogram({ name: 'mediaflow_action_duration_seconds', help: 'Duration of one action attempt', labelNames: ['action_id', 'outcome'], buckets: SECONDS, registers: [registry] }),
    actionFailures: new Counter({ name: 'mediaflow_action_failures_total', help: 'Failed action attempts by error type', labelNames: ['action_id', 'error'], registers: [registry] }),
    retries: new Counter({ name: 'mediaflow_job_retries_total', help: 'Action attempts after the first', labelNames: ['action_id'], registers: [registry] }),
    queueSize: new Gauge({ name: 'mediaflow_queue_size', help: 'Jobs waiting or running, by status', labelNames: ['status'], registers: [registry] }),
    storageBytes: new Gauge({ name: 'mediaflow_storage_bytes', help: 'Bytes of stored media files', registers: [registry] }),
    dbConnections: new Gauge({ name: 'mediaflow_db_connections', help: 'Open connections to the database, by state', labelNames: ['state'], registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
