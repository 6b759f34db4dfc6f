import { Migration } from '@mikro-orm/migrations';

/**
 * Organizations' own AI provider keys, encrypted at rest (`organization_provider_keys`).
 *
 * Hand-written, kept equal to what MikroORM derives from the entity (tests/provider-keys.e2e.test.ts
 * checks the schema diff of this table).
 */
export class Migration20261121070000 extends Migration {
  override up(): void {
    this.addSql(`
      create table "organization_provider_keys" (
        "id" uuid not null default gen_random_uuid(),
        "organization_id" uuid not null,
        "provider" text not null,
        "ciphertext" text not null,
        "key_id" varchar(32) not null,
        "preview" varchar(8) not null,
        "updated_at" timestamptz not null default now(),
        constraint "organization_provider_keys_pkey" primary key ("id"),
        constraint "organization_provider_keys_provider_check" check ("provider" in ('openai', 'anthropic')),
        constraint "organization_provider_keys_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on delete cascade
      );`);
    this.addSql(
      `alter table "organization_provider_keys" add constraint "organization_provider_keys_organization_id_provider_unique" unique ("organization_id", "provider");`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "organization_provider_keys";`);
  }
}
