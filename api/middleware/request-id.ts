import { randomBytes } from 'node:crypto';
import type { AppMiddleware } from '../handler.js';

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Every reply carries X-Request-Id: the client's own when well-formed, else a new one. */
export const requestId: AppMiddleware = async function requestId(ctx, next) {
  const given = ctx.get('x-request-id');
  ctx.state.requestId = CLIENT_ID.test(given) ? given : `req_${randomBytes(8).toString('hex')}`;
  ctx.set('X-Request-Id', ctx.state.requestId);
  await next();
};
