import { Migration } from '@mikro-orm/migrations';

/** How many requests each API key made (added to by the batched usage writes, api/services/usage-buffer.ts). */
export class Migration20261202012000 extends Migration {
  override up(): void {
    this.addSql(`alter table "api_keys" add column "usage_count" bigint not null default '0';`);
  }

  override down(): void {
    this.addSql(`alter table "api_keys" drop column if exists "usage_count";`);
  }
}
