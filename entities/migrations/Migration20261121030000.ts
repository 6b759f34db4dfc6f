import { Migration } from '@mikro-orm/migrations';

/**
 * Webhooks: endpoints (secret stored encrypted), one delivery per event and endpoint, one attempt
 * row per HTTP attempt. Hand-written, kept equal to what MikroORM derives from the entities
 * (tests/webhooks.e2e.test.ts checks the schema diff of these tables).
 */
export class Migration20261121030000 extends Migration {
  override up(): void {
    this.addSql(`
      create table "webhook_endpoints" (
        "id" uuid not null default gen_random_uuid(),
        "organization_id" uuid not null,
        "url" varchar(2048) not null,
        "description" varchar(255) null,
        "events" jsonb not null default '[]',
        "status" text not null default 'active',
        "disabled_reason" varchar(255) null,
        "secret_sealed" text not null,
        "previous_secret_sealed" text null,
        "previous_secret_expires_at" timestamptz null,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now(),
        constraint "webhook_endpoints_pkey" primary key ("id"),
        constraint "webhook_endpoints_status_check" check ("status" in ('active', 'disabled')),
        constraint "webhook_endpoints_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id")
      );`);
    this.addSql(`create index "webhook_endpoints_organization_id_index" on "webhook_endpoints" ("organization_id");`);

    this.addSql(`
      create table "webhook_deliveries" (
        "id" uuid not null default gen_random_uuid(),
        "organization_id" uuid not null,
        "endpoint_id" uuid not null,
        "event" varchar(50) not null,
        "body" text not null,
        "status" text not null default 'pending',
        "attempt_count" int not null default 0,
        "last_status_code" int null,
        "last_error" text null,
        "created_at" timestamptz not null default now(),
        "completed_at" timestamptz null,
        constraint "webhook_deliveries_pkey" primary key ("id"),
        constraint "webhook_deliveries_status_check" check ("status" in ('pending', 'succeeded', 'failed')),
        constraint "webhook_deliveries_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id"),
        constraint "webhook_deliveries_endpoint_id_foreign" foreign key ("endpoint_id") references "webhook_endpoints" ("id") on delete cascade
      );`);
    this.addSql(`create index "webhook_deliveries_organization_id_index" on "webhook_deliveries" ("organization_id");`);
    this.addSql(`create index "webhook_deliveries_endpoint_id_created_at_index" on "webhook_deliveries" ("endpoint_id", "created_at");`);

    this.addSql(`
      create table "webhook_attempts" (
        "id" uuid not null default gen_random_uuid(),
        "delivery_id" uuid not null,
        "attempt_number" int not null,
        "started_at" timestamptz not null,
        "duration_ms" int not null,
        "status_code" int null,
        "error" text null,
        "succeeded" boolean not null,
        constraint "webhook_attempts_pkey" primary key ("id"),
        constraint "webhook_attempts_delivery_id_attempt_number_unique" unique ("delivery_id", "attempt_number"),
        constraint "webhook_attempts_delivery_id_foreign" foreign key ("delivery_id") references "webhook_deliveries" ("id") on delete cascade
      );`);
  }

  override down(): void {
    this.addSql(`drop table if exists "webhook_attempts";`);
    this.addSql(`drop table if exists "webhook_deliveries";`);
    this.addSql(`drop table if exists "webhook_endpoints";`);
  }
}
