import { Migration } from '@mikro-orm/migrations';

/**
 * Resumable uploads (tus and chunked) and upload progress: one session per upload, and the
 * chunks a chunked upload has received. Kept equal to what MikroORM derives from the entities
 * (tests/uploads.test.ts checks the schema diff of these tables).
 */
export class Migration20261121050000 extends Migration {
  override up(): void {
    this.addSql(`
      create table "upload_sessions" (
        "id" varchar(64) not null,
        "organization_id" uuid not null,
        "user_id" uuid null,
        "api_key_id" uuid null,
        "kind" text not null,
        "filename" varchar(255) not null,
        "total_bytes" bigint null,
        "bytes_received" bigint not null default '0',
        "chunk_size" bigint null,
        "total_chunks" int null,
        "sha256" varchar(64) null,
        "storage_key" varchar(500) null,
        "multipart_upload_id" varchar(1024) null,
        "status" text not null default 'receiving',
        "media_id" uuid null,
        "error_code" varchar(50) null,
        "error_message" text null,
        "expires_at" timestamptz not null,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now(),
        constraint "upload_sessions_pkey" primary key ("id"),
        constraint "upload_sessions_kind_check" check ("kind" in ('tus', 'chunked', 'multipart')),
        constraint "upload_sessions_status_check" check ("status" in ('receiving', 'finalizing', 'completed', 'failed', 'expired')),
        constraint "upload_sessions_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id")
      );`);
    this.addSql(`create index "upload_sessions_organization_id_index" on "upload_sessions" ("organization_id");`);
    this.addSql(`create index "upload_sessions_status_expires_at_index" on "upload_sessions" ("status", "expires_at");`);
    this.addSql(`
      create table "upload_chunks" (
        "session_id" varchar(64) not null,
        "number" int not null,
        "size_bytes" bigint not null,
        "sha256" varchar(64) not null,
        "etag" varchar(255) null,
        "created_at" timestamptz not null default now(),
        constraint "upload_chunks_pkey" primary key ("session_id", "number"),
        constraint "upload_chunks_session_id_foreign" foreign key ("session_id") references "upload_sessions" ("id") on delete cascade
      );`);
  }

  override down(): void {
    this.addSql(`drop table if exists "upload_chunks";`);
    this.addSql(`drop table if exists "upload_sessions";`);
  }
}
