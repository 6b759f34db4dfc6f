import { ForbiddenError, TokenExpiredError, UnauthorizedError } from '#lib/errors.js';
import { can, type Principal } from '../auth/principal.js';
import type { Permission } from '../auth/permissions.js';
import type { AppMiddleware } from '../handler.js';

export interface Authenticator {
  bearer(token: string): Promise<Principal>;
  apiKey(key: string): Promise<Principal>;
  /** The Temporal Web UI's codec session cookie (operations whose `security` names `codecSession`). */
  codecSession?(value: string): Promise<Principal>;
}

/** The cookie the codec session travels in (openapi.yaml, securitySchemes.codecSession). */
export const CODEC_COOKIE = 'mf_codec';

/**
 * Resolves the caller from the credentials the operation's `security` accepts (`bearerAuth`,
 * `apiKeyAuth`). The principal also fixes the organization every query of the request is scoped to.
 */
export function authenticate(schemes: Set<string>, auth: Authenticator): AppMiddleware {
  const acceptsKey = schemes.has('apiKeyAuth');
  const acceptsBearer = schemes.has('bearerAuth');
  const acceptsCookie = schemes.has('codecSession') && auth.codecSession !== undefined;
  return async function authenticate(ctx, next) {
    const key = ctx.get('x-api-key');
    const authorization = ctx.get('authorization');
    const cookie = acceptsCookie ? ctx.cookies.get(CODEC_COOKIE) : undefined;
    let principal: Principal;
    if (key && acceptsKey) {
      principal = await auth.apiKey(key);
    } else if (authorization && acceptsBearer) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      try {
        if (!m) throw new UnauthorizedError('Authorization must be "Bearer <access token>"');
        principal = await auth.bearer(m[1]!);
      } catch (err) {
        // The Web UI may pass its own identity provider's token along with the cookie: the cookie decides then.
        if (!cookie || !(err instanceof UnauthorizedError || err instanceof TokenExpiredError)) throw err;
        principal = await auth.codecSession!(cookie);
      }
    } else if (cookie) {
      principal = await auth.codecSession!(cookie);
    } else if (key && !acceptsKey) {
      throw new UnauthorizedError('This operation needs a signed-in user (Authorization: Bearer), not an API key');
    } else {
      throw new UnauthorizedError('Credentials required: Authorization: Bearer <token> or X-API-Key: <key>');
    }
    ctx.state.principal = principal;
    ctx.state.organizationId = principal.organizationId;
    await next();
  };
}

/** Refuses with 403 unless the principal holds the operation's `x-permission`. */
export function authorize(permission: Permission): AppMiddleware {
  return async function authorize(ctx, next) {
    const principal = ctx.state.principal;
    if (!principal || !can(principal, permission)) throw new ForbiddenError(`This operation needs the "${permission}" permission`, { required: permission });
    await next();
  };
}
