import { pino, type Logger } from 'pino';

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
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-openai-api-key"]',
  'req.headers["x-anthropic-api-key"]',
  'req.headers.cookie',
];

export function createLogger(level: string, name: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, name, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}
