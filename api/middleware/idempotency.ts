import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { IdempotencyKeySchema } from '#entities/index.js';
import { ConflictError, IdempotencyKeyReusedError, ValidationError } from '#lib/errors.js';
import type { AppContext, AppMiddleware } from '../handler.js';
import { sha256Hex } from '#lib/tokens.js';

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/** A "running" key older than this belongs to a request that died (crash, restart): it may be taken over. */
const ABANDONED_AFTER_MS = 15 * 60_000;
/** Response headers worth replaying (the rest describe this reply: request id, rate limits). */
const REPLAYED_HEADERS = ['location', 'content-type'];
const KEY = /^[\x21-\x7e]{1,255}$/;

export interface IdempotencyOptions {
  orm: MikroORM;
  now: () => Date;
  operation: string;
  /** The request's digest, when it is known before the handler runs (JSON bodies). */
  fingerprintBefore?: (ctx: AppContext) => string;
  /** Otherwise, the digest derived from the handler's successful response (uploads). */
  fingerprintAfter?: (ctx: AppContext) => string;
  /** Undoes a response that turned out to repeat an earlier request (the duplicate upload). */
  discard?: (ctx: AppContext) => Promise<void>;
}


/** JSON with object keys sorted at every level, so equal bodies have equal digests. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Idempotency-Key per organization for 24 hours (see "Idempotency" in openapi.yaml). The key is
 * claimed with an insert (unique per organization), so two concurrent requests cannot both run:
 * the second sees `running` and gets 409. Only 2xx responses are stored; anything else releases
 * the key. Runs after authentication (it needs the organization) and after the body parser.
 */
export function idempotency(opts: IdempotencyOptions): AppMiddleware {
  const { orm, operation } = opts;
  return async function idempotency(ctx, next) {
    const key = ctx.get('idempotency-key');
    if (!key) return next();
    if (!KEY.test(key)) {
      throw new ValidationError('Invalid Idempotency-Key', {
        fields: [{ field: 'idempotency-key', location: 'header', message: 'must be 1-255 printable ASCII characters' }],
      });
    }
    const c = ctx as AppContext;
    const organizationId = c.state.principal!.organizationId;
    const before = opts.fingerprintBefore ? sha256Hex(`${operation}\n${opts.fingerprintBefore(c)}`) : null;
    const em = orm.em.fork();

    const claimed = await claim(em, organizationId, key, operation, before, opts.now());
    if (!claimed) {
      const row = await em.findOneOrFail(IdempotencyKeySchema, { organization: organizationId, key });
      if (row.operation !== operation || (before !== null && row.fingerprint !== before)) throw new IdempotencyKeyReusedError(key);
      if (row.state === 'running') throw new ConflictError('A request with this Idempotency-Key is still in progress; retry later', { idempotency_key: key });
      if (before === null) {
        // The first upload's digest is compared with this one's once it has been received.
        c.state.idempotentRepeat = true;
        await next();
        if (ctx.status < 200 || ctx.status >= 300) return;
        const after = sha256Hex(`${operation}\n${opts.fingerprintAfter!(c)}`);
        await opts.discard?.(c);
        if (after !== row.fingerprint) throw new IdempotencyKeyReusedError(key);
      }
      return replay(c, row);
    }

    try {
      await next();
    } catch (err) {
      await em.nativeDelete(IdempotencyKeySchema, { organization: organizationId, key });
      throw err;
    }
    if (ctx.status < 200 || ctx.status >= 300) {
      await em.nativeDelete(IdempotencyKeySchema, { organization: organizationId, key });
      return;
    }
    const headers = Object.fromEntries(REPLAYED_HEADERS.map((h) => [h, ctx.response.get(h)]).filter(([, v]) => v));
    await em.nativeUpdate(
      IdempotencyKeySchema,
      { organization: organizationId, key },
      {
        state: 'done',
        fingerprint: before ?? sha256Hex(`${operation}\n${opts.fingerprintAfter!(c)}`),
        responseStatus: ctx.status,
        responseHeaders: headers,
        responseBody: ctx.body as never,
      },
    );
  };
}

/** Inserts the key as running; true if this request owns it now (new, expired or abandoned). */
async function claim(
  em: ReturnType<MikroORM['em']['fork']>,
  organizationId: string,
  key: string,
  operation: string,
  fingerprint: string | null,
  now: Date,
): Promise<boolean> {
  // Expired keys, and running ones whose request is long gone, are free again.
  await em.nativeDelete(IdempotencyKeySchema, {
    organization: organizationId,
    key,
    $or: [{ expiresAt: { $lte: now } }, { state: 'running', createdAt: { $lt: new Date(now.getTime() - ABANDONED_AFTER_MS) } }],
  });
  try {
    await em.insert(IdempotencyKeySchema, {
      organization: organizationId,
      key,
      operation,
      fingerprint,
      state: 'running',
      responseStatus: null,
      responseHeaders: null,
      responseBody: null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
    });
    return true;
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) return false;
    throw err;
  }
}

function replay(ctx: AppContext, row: { responseStatus?: number | null; responseHeaders?: Record<string, string> | null; responseBody?: unknown }): void {
  for (const [name, value] of Object.entries(row.responseHeaders ?? {})) ctx.set(name, value);
  ctx.set('Idempotent-Replayed', 'true');
  ctx.status = row.responseStatus ?? 200;
  ctx.body = row.responseBody ?? {};
}

/** The middleware factory handed to routes: the database and clock come from the API's deps. */
export const createIdempotency = (deps: { orm: MikroORM; clock: { now(): Date } }) => (o: Omit<IdempotencyOptions, 'orm' | 'now'>) =>
  idempotency({ ...o, orm: deps.orm, now: () => deps.clock.now() });
