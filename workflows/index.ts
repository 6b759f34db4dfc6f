// Entry point of the workflow bundle.
export { processJob, getStateQuery } from './process-job.js';
