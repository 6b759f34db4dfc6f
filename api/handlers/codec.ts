import { reply, type Route } from '../handler.js';
import { jsonBody } from '../middleware/body.js';
import type { Services } from '../services/index.js';

// Temporal allows payloads of up to 2 MB, and the UI sends a whole event's payloads at once.
const codecBodyLimitKb = (bodyLimitKb: number) => Math.max(bodyLimitKb, 8 * 1024);

export const encodeTemporalPayloads = (s: Services, bodyLimitKb: number): Route<'encodeTemporalPayloads'> => ({
  before: [jsonBody(codecBodyLimitKb(bodyLimitKb))],
  async handle(ctx, { body }) {
    reply(ctx, 'encodeTemporalPayloads', 200, { payloads: await s.codec.encode(body.payloads) });
  },
});

export const decodeTemporalPayloads = (s: Services, bodyLimitKb: number): Route<'decodeTemporalPayloads'> => ({
  before: [jsonBody(codecBodyLimitKb(bodyLimitKb))],
  async handle(ctx, { body }) {
    reply(ctx, 'decodeTemporalPayloads', 200, { payloads: await s.codec.decode(body.payloads) });
  },
});
