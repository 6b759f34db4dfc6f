// Entry point of the workflow bundle.
export { processJob, getStateQuery, cancelSignal, retrySignal, cancelUpdate, retryUpdate } from './process-job.js';
export { retentionSweep } from './retention.js';
export { deliverWebhook } from './deliver-webhook.js';
export { importMedia } from './import-media.js';
export { thumbnail } from './thumbnail.js';
