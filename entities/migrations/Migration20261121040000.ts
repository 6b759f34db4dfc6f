import { Migration } from '@mikro-orm/migrations';

/**
 * Usage metering and idempotency: `usage_records` (one row per request and one per job step,
 * spec §4/§12; a step is unique per (job_id, step_index)) and `idempotency_keys` (the first
 * response per organization and Idempotency-Key, kept 24 hours).
 *
 * Hand-written, kept equal to what MikroORM derives from the entities (tests/usage.test.ts checks
 * the schema diff of these tables).
 */
export class Migration20261121040000 extends Migration {
  override up(): void {
    this.addSql(`
      create table "usage_records" (
        "id" uuid not null default gen_random_uuid(),
        "organization_id" uuid not null,
        "user_id" uuid null,
        "api_key_id" uuid null,
        "job_id" uuid null,
        "step_index" int null,
        "action_type" text not null,
        "action_id" varchar(50) null,
        "media_type" varchar(20) null,
        "file_size_bytes" bigint null,
        "bytes_in" bigint not null default '0',
        "bytes_out" bigint not null default '0',
        "processing_time_ms" int null,
        "ai_provider" varchar(50) null,
        "ai_tokens_used" int null,
        "request_ip" varchar(45) null,
        "user_agent" varchar(500) null,
        "endpoint" varchar(200) null,
        "http_method" varchar(10) null,
        "response_status" int null,
        "credits_used" numeric(10,4) not null default 0,
        "timestamp" timestamptz not null default now(),
        constraint "usage_records_pkey" primary key ("id"),
        constraint "usage_records_job_id_step_index_unique" unique ("job_id", "step_index"),
        constraint "usage_records_action_type_check" check ("action_type" in ('UPLOAD', 'PROCESS', 'DOWNLOAD', 'API_CALL')),
        constraint "usage_records_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id")
      );`);
    this.addSql(`create index "usage_records_organization_id_timestamp_index" on "usage_records" ("organization_id", "timestamp");`);
    this.addSql(`create index "usage_records_api_key_id_timestamp_index" on "usage_records" ("api_key_id", "timestamp");`);

    this.addSql(`
      create table "idempotency_keys" (
        "id" uuid not null default gen_random_uuid(),
        "organization_id" uuid not null,
        "key" varchar(255) not null,
        "operation" varchar(100) not null,
        "fingerprint" varchar(64) null,
        "state" text not null default 'running',
        "response_status" int null,
        "response_headers" jsonb null,
        "response_body" jsonb null,
        "created_at" timestamptz not null default now(),
        "expires_at" timestamptz not null,
        constraint "idempotency_keys_pkey" primary key ("id"),
        constraint "idempotency_keys_organization_id_key_unique" unique ("organization_id", "key"),
        constraint "idempotency_keys_state_check" check ("state" in ('running', 'done')),
        constraint "idempotency_keys_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id")
      );`);
    this.addSql(`create index "idempotency_keys_expires_at_index" on "idempotency_keys" ("expires_at");`);
  }

  override down(): void {
    this.addSql(`drop table if exists "idempotency_keys";`);
    this.addSql(`drop table if exists "usage_records";`);
  }
}
