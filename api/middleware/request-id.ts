import { randomFillSync } from 'node:crypto';
import type { AppMiddleware } from '../handler.js';

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

// Random bytes drawn 4 KiB at a time: one call per request into the system's generator cost
// more than the rest of this middleware.
const pool = Buffer.alloc(4096);
let offset = pool.length;
function randomHex8(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  offset += 8;
  return pool.toString('hex', offset - 8, offset);
}

/** Every reply carries X-Request-Id: the client's own when well-formed, else a new one. */
export const requestId: AppMiddleware = async function requestId(ctx, next) {
  const given = ctx.get('x-request-id');
  ctx.state.requestId = CLIENT_ID.test(given) ? given : `req_${randomHex8()}`;
  ctx.set('X-Request-Id', ctx.state.requestId);
  await next();
};
