import type { TriggerDef } from '@mikro-orm/core';

/** The channel API instances LISTEN on; see api/services/credential-cache.ts. */
export const CREDENTIALS_CHANNEL = 'mediaflow_credentials';

/** Sends `<kind>:<value of column>` on the channel for each changed or deleted row (created by Migration20261201100000). */
export const NOTIFY_CREDENTIALS_FUNCTION = `
  create or replace function mediaflow_notify_credentials() returns trigger language plpgsql as $$
  declare
    rec record;
  begin
    if TG_OP = 'DELETE' then rec := OLD; else rec := NEW; end if;
    perform pg_notify('${CREDENTIALS_CHANNEL}', TG_ARGV[0] || ':' || (to_jsonb(rec) ->> TG_ARGV[1]));
    return null;
  end $$;`;

// Table, payload kind, column naming the cached entries to drop, columns whose change matters.
const WATCHED = {
  api_keys: ['key', 'id', 'status, key_hash, previous_key_hash, previous_key_expires_at, permissions, rate_limits, expires_at, revoked_at, organization_id, created_by_id'],
  users: ['user', 'id', 'role, status, email, organization_id, platform_admin'],
  organizations: ['org', 'id', 'settings, deleted_at'],
  refresh_tokens: ['session', 'family_id', 'used_at, revoked_at, expires_at'],
} as const;
export type WatchedTable = keyof typeof WATCHED;
export const WATCHED_TABLES = Object.keys(WATCHED) as WatchedTable[];

/**
 * API instances cache resolved API keys and sessions for a few seconds. Any change that can end
 * or narrow a credential (revoke, rotate, expiry, logout, role change, removal, quotas, deletion)
 * notifies every instance at commit, whatever wrote it: the API, a migration or an operator's SQL.
 */
export function credentialTrigger(table: WatchedTable): TriggerDef & { name: string; expression: string } {
  const [kind, column, columns] = WATCHED[table];
  const name = `${table}_notify_credentials`;
  return {
    name,
    timing: 'after',
    events: ['update', 'delete'],
    expression: `create trigger "${name}" after update of ${columns} or delete on "${table}" for each row execute function mediaflow_notify_credentials('${kind}', '${column}')`,
  };
}
