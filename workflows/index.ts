// Entry point of the workflow bundle.
export { processJob, getStateQuery, cancelSignal, retrySignal } from './process-job.js';
export { retentionSweep } from './retention.js';
export { deliverWebhook } from './deliver-webhook.js';
export { importMedia } from './import-media.js';
