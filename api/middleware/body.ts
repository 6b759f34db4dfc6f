import { koaBody } from 'koa-body';
import type { AppMiddleware } from '../handler.js';

/** JSON only: other content types leave the body unparsed for the validator to refuse. */
export const jsonBody = (limitKb: number): AppMiddleware =>
  koaBody({ json: true, urlencoded: false, text: false, multipart: false, jsonLimit: `${limitKb}kb`, jsonStrict: true }) as AppMiddleware;
