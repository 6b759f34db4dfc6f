import { pino, type Logger } from 'pino';
import { traceFields } from './tracing.js';

export type { Logger };

// Secrets must never reach logs: these paths are censored wherever they appear in a log object.
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'api_key',
  '*.api_key',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'invitation_token',
  '*.invitation_token',
  'current_password',
  '*.current_password',
  'new_password',
  '*.new_password',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-openai-api-key"]',
  'req.headers["x-anthropic-api-key"]',
  'req.headers.cookie',
  // A job's own AI provider keys (workflows/types.ts ProviderKeys), wherever an input is logged.
  'providerKeys',
  '*.providerKeys',
  // An organization's stored keys, as set through PUT /organizations/{id}/provider-keys.
  'openai_api_key',
  '*.openai_api_key',
  'anthropic_api_key',
  '*.anthropic_api_key',
];

export function createLogger(level: string, name: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, name, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, mixin: traceFields }, destination);
}
