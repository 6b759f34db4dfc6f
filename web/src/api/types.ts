// The API's types, generated from openapi/openapi.yaml (`npm run gen:types`): a spec change that
// breaks the console fails `npm run typecheck`.
import type { components, paths } from '../../../api/generated/openapi';

export type { paths };
export type Schemas = components['schemas'];
export type Session = Schemas['Session'];
export type User = Schemas['User'];
export type MediaFile = Schemas['MediaFile'];
export type Job = Schemas['Job'];
export type JobStatus = Schemas['JobStatus'];
export type JobStep = Schemas['JobStep'];
export type JobArtifact = Schemas['JobArtifact'];
export type ActionSummary = Schemas['ActionSummary'];
export type ActionDetail = Schemas['ActionDetail'];
export type ApiKey = Schemas['ApiKey'];
export type Permission = Schemas['Permission'];
export type Role = Schemas['Role'];
export type Webhook = Schemas['Webhook'];
export type WebhookEvent = Schemas['WebhookEvent'];
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type ErrorBody = Schemas['Error'];
export type MediaType = Schemas['MediaType'];

export const TERMINAL: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];
export const isTerminal = (s: JobStatus) => TERMINAL.includes(s);
