import { Migration } from '@mikro-orm/migrations';

/**
 * Identity: users, refresh tokens (grouped in families), API keys, and the table that holds the
 * rate-limit counters shared by every API instance (the layout rate-limiter-flexible's Postgres
 * store expects; created here so nothing creates tables at run time).
 *
 * Hand-written, kept equal to what MikroORM derives from the entities (tests/auth.test.ts checks
 * the schema diff of these tables).
 */
export class Migration20261121010000 extends Migration {
  override up(): void {
    this.addSql(`
      create table "users" (
        "id" uuid not null default gen_random_uuid(),
        "organization_id" uuid not null,
        "email" varchar(255) not null,
        "password_hash" text null,
        "name" varchar(100) not null,
        "role" text not null default 'member',
        "status" text not null default 'active',
        "invitation_token_hash" varchar(64) null,
        "invitation_expires_at" timestamptz null,
        "last_login_at" timestamptz null,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now(),
        constraint "users_pkey" primary key ("id"),
        constraint "users_email_unique" unique ("email"),
        constraint "users_invitation_token_hash_unique" unique ("invitation_token_hash"),
        constraint "users_role_check" check ("role" in ('owner', 'admin', 'member')),
        constraint "users_status_check" check ("status" in ('active', 'invited', 'suspended', 'removed')),
        constraint "users_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id")
      );`);
    this.addSql(`create index "users_organization_id_index" on "users" ("organization_id");`);

    this.addSql(`
      create table "refresh_tokens" (
        "id" uuid not null default gen_random_uuid(),
        "user_id" uuid not null,
        "family_id" uuid not null,
        "token_hash" varchar(64) not null,
        "expires_at" timestamptz not null,
        "used_at" timestamptz null,
        "revoked_at" timestamptz null,
        "created_at" timestamptz not null default now(),
        constraint "refresh_tokens_pkey" primary key ("id"),
        constraint "refresh_tokens_token_hash_unique" unique ("token_hash"),
        constraint "refresh_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade
      );`);
    this.addSql(`create index "refresh_tokens_user_id_index" on "refresh_tokens" ("user_id");`);
    this.addSql(`create index "refresh_tokens_family_id_index" on "refresh_tokens" ("family_id");`);

    this.addSql(`
      create table "api_keys" (
        "id" uuid not null default gen_random_uuid(),
        "organization_id" uuid not null,
        "created_by_id" uuid not null,
        "name" varchar(100) not null,
        "key_preview" varchar(32) not null,
        "key_hash" varchar(64) not null,
        "previous_key_hash" varchar(64) null,
        "previous_key_expires_at" timestamptz null,
        "permissions" jsonb not null default '[]',
        "rate_limits" jsonb not null default '{}',
        "status" text not null default 'active',
        "expires_at" timestamptz null,
        "last_used_at" timestamptz null,
        "revoked_at" timestamptz null,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now(),
        constraint "api_keys_pkey" primary key ("id"),
        constraint "api_keys_key_hash_unique" unique ("key_hash"),
        constraint "api_keys_status_check" check ("status" in ('active', 'revoked')),
        constraint "api_keys_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id"),
        constraint "api_keys_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id")
      );`);
    this.addSql(`create index "api_keys_organization_id_index" on "api_keys" ("organization_id");`);
    this.addSql(`create index "api_keys_previous_key_hash_index" on "api_keys" ("previous_key_hash");`);

    this.addSql(`
      create table "rate_limits" (
        "key" varchar(255) not null,
        "points" integer not null default 0,
        "expire" bigint null,
        constraint "rate_limits_pkey" primary key ("key")
      );`);
  }

  override down(): void {
    this.addSql(`drop table if exists "rate_limits";`);
    this.addSql(`drop table if exists "api_keys";`);
    this.addSql(`drop table if exists "refresh_tokens";`);
    this.addSql(`drop table if exists "users";`);
  }
}
