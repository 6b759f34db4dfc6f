import { Migration } from '@mikro-orm/migrations';

/**
 * Initial schema: organizations, media_files, processing_jobs, plus the default organization
 * (id 00000000-0000-4000-8000-000000000001, = DEFAULT_ORGANIZATION_ID in ../orm.ts; inlined so this
 * migration never changes).
 *
 * Hand-written, kept equal to what MikroORM's schema generator derives from the entities
 * (tests/entities.test.ts checks that the schema diff is empty after migrating).
 */
export class Migration20261121000000 extends Migration {
  override up(): void {
    this.addSql(`
      create table "organizations" (
        "id" uuid not null default gen_random_uuid(),
        "name" varchar(100) not null,
        "slug" varchar(100) not null,
        "email" varchar(255) not null,
        "settings" jsonb not null default '{}',
        "metadata" jsonb not null default '{}',
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now(),
        "deleted_at" timestamptz null,
        constraint "organizations_pkey" primary key ("id"),
        constraint "organizations_slug_unique" unique ("slug")
      );`);

    this.addSql(`
      create table "media_files" (
        "id" uuid not null default gen_random_uuid(),
        "organization_id" uuid not null,
        "uploaded_by_user_id" uuid null,
        "uploaded_by_api_key_id" uuid null,
        "original_filename" varchar(255) not null,
        "stored_filename" varchar(255) not null,
        "mime_type" varchar(100) not null,
        "media_type" text not null,
        "file_size_bytes" bigint not null,
        "storage_path" varchar(500) not null,
        "thumbnail_path" varchar(500) null,
        "metadata" jsonb not null default '{}',
        "checksum_md5" varchar(32) not null,
        "checksum_sha256" varchar(64) not null,
        "status" text not null default 'processing',
        "expires_at" timestamptz not null,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now(),
        constraint "media_files_pkey" primary key ("id"),
        constraint "media_files_media_type_check" check ("media_type" in ('image', 'audio')),
        constraint "media_files_status_check" check ("status" in ('processing', 'ready', 'failed', 'deleted')),
        constraint "media_files_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id")
      );`);
    this.addSql(`create index "media_files_organization_id_index" on "media_files" ("organization_id");`);
    this.addSql(`create index "media_files_organization_id_media_type_index" on "media_files" ("organization_id", "media_type");`);
    this.addSql(`create index "media_files_expires_at_index" on "media_files" ("expires_at");`);

    this.addSql(`
      create table "processing_jobs" (
        "id" uuid not null default gen_random_uuid(),
        "organization_id" uuid not null,
        "user_id" uuid null,
        "api_key_id" uuid null,
        "input_media_id" uuid not null,
        "action_id" varchar(50) not null,
        "action_category" text not null,
        "parameters" jsonb not null default '{}',
        "status" text not null default 'pending',
        "priority" int not null default 50,
        "worker_id" varchar(255) null,
        "workflow_id" varchar(200) null,
        "queued_at" timestamptz null,
        "started_at" timestamptz null,
        "completed_at" timestamptz null,
        "progress" double precision not null default 0,
        "result_type" text null,
        "result_media_id" uuid null,
        "result_data" jsonb null,
        "error_code" varchar(50) null,
        "error_message" text null,
        "retry_count" int not null default 0,
        "max_retries" int not null default 3,
        "processing_time_ms" int null,
        "ai_provider" varchar(50) null,
        "ai_tokens_used" int null,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now(),
        constraint "processing_jobs_pkey" primary key ("id"),
        constraint "processing_jobs_workflow_id_unique" unique ("workflow_id"),
        constraint "processing_jobs_action_category_check" check ("action_category" in ('transcribe', 'modify', 'process')),
        constraint "processing_jobs_status_check" check ("status" in ('pending', 'queued', 'processing', 'completed', 'failed', 'cancelled')),
        constraint "processing_jobs_result_type_check" check ("result_type" in ('file', 'json', 'files')),
        constraint "processing_jobs_progress_check" check (progress::numeric >= 0 and progress::numeric <= 1),
        constraint "processing_jobs_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id"),
        constraint "processing_jobs_input_media_id_foreign" foreign key ("input_media_id") references "media_files" ("id"),
        constraint "processing_jobs_result_media_id_foreign" foreign key ("result_media_id") references "media_files" ("id") on delete set null
      );`);
    this.addSql(`create index "processing_jobs_organization_id_index" on "processing_jobs" ("organization_id");`);
    this.addSql(`create index "processing_jobs_organization_id_status_index" on "processing_jobs" ("organization_id", "status");`);
    this.addSql(`create index "processing_jobs_status_priority_index" on "processing_jobs" ("status", "priority");`);

    this.addSql(`
      insert into "organizations" ("id", "name", "slug", "email")
      values ('00000000-0000-4000-8000-000000000001', 'Default', 'default', 'admin@localhost');`);
  }

  override down(): void {
    this.addSql(`drop table if exists "processing_jobs";`);
    this.addSql(`drop table if exists "media_files";`);
    this.addSql(`drop table if exists "organizations";`);
  }
}
