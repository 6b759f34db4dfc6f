import { koaBody } from 'koa-body';
import type { AppMiddleware } from '../handler.js';
import { assertSafeJson } from './input-hygiene.js';

/**
 * JSON only: other content types leave the body unparsed for the validator to refuse. A parsed body
 * that nests too deep or holds a NUL byte is refused here, before idempotency fingerprints, cloning,
 * validation or the database touch it.
 */
export const jsonBody = (limitKb: number): AppMiddleware => {
  const parse = koaBody({ json: true, urlencoded: false, text: false, multipart: false, jsonLimit: `${limitKb}kb`, jsonStrict: true }) as AppMiddleware;
  return async function jsonBody(ctx, next) {
    await parse(ctx, async () => {
      assertSafeJson((ctx.request as { body?: unknown }).body);
      await next();
    });
  };
};
