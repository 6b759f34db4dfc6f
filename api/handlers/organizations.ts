import { reply, type Route } from '../handler.js';
import { toOrganization, toUser } from '../auth/mappers.js';
import { jsonBody } from '../middleware/body.js';
import type { Services } from '../services/index.js';
import { principalOf } from './auth.js';
import type { StoredKeysStatus } from '../services/provider-keys.js';
import type { components } from '../generated/openapi.js';

export const getOrganization = (s: Services): Route<'getOrganization'> => ({
  async handle(ctx, { path }) {
    reply(ctx, 'getOrganization', 200, toOrganization(await s.organizations.get(principalOf(ctx), path.id)));
  },
});

export const updateOrganization = (s: Services, bodyLimitKb: number): Route<'updateOrganization'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { path, body }) {
    const view = await s.organizations.update(principalOf(ctx), path.id, { name: body.name, email: body.email, metadata: body.metadata, quotas: body.quotas });
    reply(ctx, 'updateOrganization', 200, toOrganization(view));
  },
});

export const deleteOrganization = (s: Services): Route<'deleteOrganization'> => ({
  async handle(ctx, { path }) {
    await s.organizations.remove(principalOf(ctx), path.id);
    ctx.status = 204;
  },
});

export const listOrganizationUsers = (s: Services): Route<'listOrganizationUsers'> => ({
  async handle(ctx, { path }) {
    reply(ctx, 'listOrganizationUsers', 200, { users: (await s.organizations.listUsers(principalOf(ctx), path.id)).map(toUser) });
  },
});

export const inviteOrganizationUser = (s: Services, bodyLimitKb: number): Route<'inviteOrganizationUser'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { path, body }) {
    const { user, token } = await s.organizations.invite(principalOf(ctx), path.id, { email: body.email, name: body.name, role: body.role ?? 'member' });
    reply(ctx, 'inviteOrganizationUser', 201, { user: toUser(user), invitation_token: token, invitation_expires_at: user.invitationExpiresAt!.toISOString() });
  },
});

export const removeOrganizationUser = (s: Services): Route<'removeOrganizationUser'> => ({
  async handle(ctx, { path }) {
    await s.organizations.removeUser(principalOf(ctx), path.id, path.userId);
    ctx.status = 204;
  },
});

export const updateOrganizationUserRole = (s: Services, bodyLimitKb: number): Route<'updateOrganizationUserRole'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { path, body }) {
    reply(ctx, 'updateOrganizationUserRole', 200, toUser(await s.organizations.changeRole(principalOf(ctx), path.id, path.userId, body.role)));
  },
});

const keyStatus = (k: StoredKeysStatus[keyof StoredKeysStatus]): components['schemas']['ProviderKeyStatus'] => ({
  set: k.set,
  preview: k.preview,
  updated_at: k.updatedAt ? k.updatedAt.toISOString() : null,
});
const toProviderKeys = (s: StoredKeysStatus): components['schemas']['OrganizationProviderKeys'] => ({ openai: keyStatus(s.openai), anthropic: keyStatus(s.anthropic) });

export const getOrganizationProviderKeys = (s: Services): Route<'getOrganizationProviderKeys'> => ({
  async handle(ctx, { path }) {
    reply(ctx, 'getOrganizationProviderKeys', 200, toProviderKeys(await s.organizations.providerKeys(principalOf(ctx), path.id)));
  },
});

// The body's keys are already checked against the spec's patterns.
export const setOrganizationProviderKeys = (s: Services, bodyLimitKb: number): Route<'setOrganizationProviderKeys'> => ({
  before: [jsonBody(bodyLimitKb)],
  async handle(ctx, { path, body }) {
    const status = await s.organizations.setProviderKeys(principalOf(ctx), path.id, { openai: body.openai_api_key, anthropic: body.anthropic_api_key });
    reply(ctx, 'setOrganizationProviderKeys', 200, toProviderKeys(status));
  },
});
