import { Migration } from '@mikro-orm/migrations';

/**
 * Direct and remote input, and sharing: `media_uploads` (presigned uploads awaiting completion),
 * `media_imports` (imports from a URL) and `media_shares` (read access granted to a user or to
 * another organization).
 *
 * Hand-written, kept equal to what MikroORM derives from the entities (tests/sharing.test.ts checks
 * the schema diff of these tables).
 */
export class Migration20261121060000 extends Migration {
  override up(): void {
    this.addSql(`
      create table "media_uploads" (
        "id" uuid not null default gen_random_uuid(),
        "organization_id" uuid not null,
        "user_id" uuid null,
        "api_key_id" uuid null,
        "filename" varchar(255) not null,
        "content_type" varchar(100) not null,
        "size_bytes" bigint not null,
        "sha256" varchar(64) not null,
        "method" text not null,
        "storage_key" varchar(500) not null,
        "status" text not null default 'pending',
        "error_code" varchar(50) null,
        "error_message" text null,
        "expires_at" timestamptz not null,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now(),
        constraint "media_uploads_pkey" primary key ("id"),
        constraint "media_uploads_method_check" check ("method" in ('PUT', 'POST')),
        constraint "media_uploads_status_check" check ("status" in ('pending', 'completing', 'completed', 'failed')),
        constraint "media_uploads_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id")
      );`);
    this.addSql(`create index "media_uploads_organization_id_index" on "media_uploads" ("organization_id");`);
    this.addSql(`create index "media_uploads_status_expires_at_index" on "media_uploads" ("status", "expires_at");`);

    this.addSql(`
      create table "media_imports" (
        "id" uuid not null default gen_random_uuid(),
        "organization_id" uuid not null,
        "user_id" uuid null,
        "api_key_id" uuid null,
        "url" text not null,
        "filename" varchar(255) null,
        "process" jsonb null,
        "status" text not null default 'pending',
        "media_id" uuid null,
        "job_id" uuid null,
        "error_code" varchar(50) null,
        "error_message" text null,
        "workflow_id" varchar(200) null,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now(),
        "completed_at" timestamptz null,
        constraint "media_imports_pkey" primary key ("id"),
        constraint "media_imports_status_check" check ("status" in ('pending', 'running', 'completed', 'failed')),
        constraint "media_imports_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id")
      );`);
    this.addSql(`create index "media_imports_organization_id_index" on "media_imports" ("organization_id");`);

    this.addSql(`
      create table "media_shares" (
        "id" uuid not null default gen_random_uuid(),
        "media_id" uuid not null,
        "organization_id" uuid not null,
        "grantee_user_id" uuid null,
        "grantee_organization_id" uuid null,
        "created_by_user_id" uuid null,
        "expires_at" timestamptz null,
        "created_at" timestamptz not null default now(),
        constraint "media_shares_pkey" primary key ("id"),
        constraint "media_shares_media_id_foreign" foreign key ("media_id") references "media_files" ("id") on delete cascade,
        constraint "media_shares_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id"),
        constraint "media_shares_grantee_user_id_foreign" foreign key ("grantee_user_id") references "users" ("id") on delete cascade,
        constraint "media_shares_grantee_organization_id_foreign" foreign key ("grantee_organization_id") references "organizations" ("id") on delete cascade
      );`);
    this.addSql(`create index "media_shares_organization_id_index" on "media_shares" ("organization_id");`);
    this.addSql(`create index "media_shares_grantee_user_id_index" on "media_shares" ("grantee_user_id");`);
    this.addSql(`create index "media_shares_grantee_organization_id_index" on "media_shares" ("grantee_organization_id");`);
    this.addSql(`alter table "media_shares" add constraint "media_shares_media_id_grantee_user_id_unique" unique ("media_id", "grantee_user_id");`);
    this.addSql(
      `alter table "media_shares" add constraint "media_shares_media_id_grantee_organization_id_unique" unique ("media_id", "grantee_organization_id");`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "media_shares";`);
    this.addSql(`drop table if exists "media_imports";`);
    this.addSql(`drop table if exists "media_uploads";`);
  }
}
