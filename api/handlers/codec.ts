import { reply, type Route } from '../handler.js';
import { CODEC_COOKIE } from '../middleware/auth.js';
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

/** The codec session cookie: for the codec path only, never readable by scripts. */
function cookieOptions(baseUrl: string, expiresAt?: Date) {
  const secure = baseUrl.startsWith('https://');
  return {
    path: '/api/v1/codec',
    httpOnly: true,
    // Cross-site UIs need None, which browsers accept over HTTPS only; over HTTP the UI must be on the same site.
    sameSite: secure ? ('none' as const) : ('lax' as const),
    secure,
    overwrite: true,
    // An empty value is sent expired (1970) by the cookies module.
    ...(expiresAt ? { expires: expiresAt } : {}),
  };
}

export const openCodecSession = (s: Services, baseUrl: string): Route<'openCodecSession'> => ({
  async handle(ctx) {
    const session = await s.auth.issueCodecSession(ctx.state.principal!);
    // Behind a TLS-terminating proxy the connection is plain HTTP; the public URL says what the browser sees.
    ctx.cookies.secure = baseUrl.startsWith('https://');
    ctx.cookies.set(CODEC_COOKIE, session.value, cookieOptions(baseUrl, session.expiresAt));
    ctx.status = 204;
  },
});

export const closeCodecSession = (baseUrl: string): Route<'closeCodecSession'> => ({
  async handle(ctx) {
    ctx.cookies.secure = baseUrl.startsWith('https://');
    ctx.cookies.set(CODEC_COOKIE, '', cookieOptions(baseUrl));
    ctx.status = 204;
  },
});
