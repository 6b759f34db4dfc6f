import { reply, type AppContext, type Route } from '../handler.js';
import { toOrganizationSummary, toSession, toUser } from '../auth/mappers.js';
import type { Principal } from '../auth/principal.js';
import { jsonBody } from '../middleware/body.js';
import type { Services } from '../services/index.js';

/** Secured operations always have a principal (the guard runs first). */
export const principalOf = (ctx: AppContext): Principal => ctx.state.principal!;

export const register = (s: Services, bodyLimitKb: number): Route<'register'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { body }) {
    const session = await s.auth.register({ organizationName: body.organization_name, name: body.name, email: body.email, password: body.password });
    reply(ctx, 'register', 201, toSession(session));
  },
});

export const login = (s: Services, bodyLimitKb: number): Route<'login'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { body }) {
    reply(ctx, 'login', 200, toSession(await s.auth.login({ email: body.email, password: body.password }, ctx.ip)));
  },
});

export const refreshSession = (s: Services, bodyLimitKb: number): Route<'refreshSession'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { body }) {
    reply(ctx, 'refreshSession', 200, toSession(await s.auth.refresh(body.refresh_token)));
  },
});

export const acceptInvitation = (s: Services, bodyLimitKb: number): Route<'acceptInvitation'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { body }) {
    const session = await s.auth.acceptInvitation({ token: body.invitation_token, password: body.password, name: body.name });
    reply(ctx, 'acceptInvitation', 200, toSession(session));
  },
});

export const logout = (s: Services): Route<'logout'> => ({
  async handle(ctx) {
    await s.auth.logout(principalOf(ctx));
    ctx.status = 204;
  },
});

export const getMe = (s: Services): Route<'getMe'> => ({
  async handle(ctx) {
    const principal = principalOf(ctx);
    const { user, organization } = await s.auth.me(principal);
    reply(ctx, 'getMe', 200, { user: toUser(user), organization: toOrganizationSummary(organization), permissions: principal.permissions });
  },
});

export const changePassword = (s: Services, bodyLimitKb: number): Route<'changePassword'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { body }) {
    await s.auth.changePassword(principalOf(ctx), { currentPassword: body.current_password, newPassword: body.new_password }, ctx.ip);
    ctx.status = 204;
  },
});
