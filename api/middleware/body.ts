import { HttpMethodEnum, koaBody } from 'koa-body';
import type { AppMiddleware } from '../handler.js';
import { assertSafeJson } from './input-hygiene.js';

/**
 * JSON only: other content types leave the body unparsed for the validator to refuse. A parsed body
 * that nests too deep or holds a NUL byte is refused here, before idempotency fingerprints, cloning,
 * validation or the database touch it. Every method a route puts this in front of is parsed: DELETE
 * too (koa-body's default skips it), since `DELETE /jobs/{id}` takes the spec's `{"reason"}`.
 */
export const jsonBody = (limitKb: number): AppMiddleware => {
  const parse = koaBody({
    json: true,
    urlencoded: false,
    text: false,
    multipart: false,
    jsonLimit: `${limitKb}kb`,
    jsonStrict: true,
    parsedMethods: [HttpMethodEnum.POST, HttpMethodEnum.PUT, HttpMethodEnum.PATCH, HttpMethodEnum.DELETE],
  }) as AppMiddleware;
  return async function jsonBody(ctx, next) {
    await parse(ctx, async () => {
      assertSafeJson((ctx.request as { body?: unknown }).body);
      await next();
    });
  };
};
