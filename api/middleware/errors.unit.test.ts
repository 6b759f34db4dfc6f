import { PassThrough } from 'node:stream';
import type { Logger } from '#lib/logger.js';
import type { AppContext } from '../handler.js';
import { errorHandler } from './errors.js';

// raw-body's error when the request stream is no longer readable (koa-body's JSON parser raises it).
const notReadable = () => Object.assign(new Error('stream is not readable'), { status: 500, expose: false, type: 'stream.not.readable' });

function run(req: PassThrough, err: Error) {
  const logged: unknown[] = [];
  const logger = { error: (o: unknown) => logged.push(o) } as unknown as Logger;
  const headers: Record<string, string> = {};
  const ctx = { req, status: 404, body: undefined as unknown, method: 'POST', path: '/api/v1/process', state: { requestId: 'req_1' }, set: (k: string, v: string) => (headers[k] = v) };
  return errorHandler(logger)(ctx as unknown as AppContext, () => Promise.reject(err)).then(() => ({ ctx, logged }));
}

test('a client that hung up before its body was read gets a 4xx, and no error is logged', async () => {
  const req = new PassThrough();
  req.destroy();
  const { ctx, logged } = await run(req, notReadable());
  expect(ctx.status).toBe(400);
  expect(ctx.body).toMatchObject({ error: { code: 'VALIDATION_ERROR', request_id: 'req_1' } });
  expect(logged).toEqual([]);
});

test('the same error on a request still open stays an internal error, and is logged', async () => {
  const { ctx, logged } = await run(new PassThrough(), notReadable());
  expect(ctx.status).toBe(500);
  expect(ctx.body).toMatchObject({ error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } });
  expect(logged).toHaveLength(1);
});
