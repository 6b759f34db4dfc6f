export * from './organization.js';
export * from './media-file.js';
export * from './processing-job.js';
export * from './user.js';
export * from './refresh-token.js';
export * from './api-key.js';
export { createOrm, entities, migrationsList, DEFAULT_ORGANIZATION_ID, type CreateOrmOptions } from './orm.js';
export { migrate } from './migrate.js';
