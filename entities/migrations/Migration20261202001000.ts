import { Migration } from '@mikro-orm/migrations';

/**
 * Shares name their grantee by id without a foreign key: a share to an id that names nobody is
 * recorded like any other, so the answer to a share never tells whether a user or an organization
 * id exists (see entities/media-share.ts).
 */
export class Migration20261202001000 extends Migration {
  override up(): void {
    this.addSql(`alter table "media_shares" drop constraint if exists "media_shares_grantee_user_id_foreign";`);
    this.addSql(`alter table "media_shares" drop constraint if exists "media_shares_grantee_organization_id_foreign";`);
  }

  override down(): void {
    this.addSql(`delete from "media_shares" s where s."grantee_user_id" is not null and not exists (select 1 from "users" u where u."id" = s."grantee_user_id");`);
    this.addSql(
      `delete from "media_shares" s where s."grantee_organization_id" is not null and not exists (select 1 from "organizations" o where o."id" = s."grantee_organization_id");`,
    );
    this.addSql(
      `alter table "media_shares" add constraint "media_shares_grantee_user_id_foreign" foreign key ("grantee_user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "media_shares" add constraint "media_shares_grantee_organization_id_foreign" foreign key ("grantee_organization_id") references "organizations" ("id") on delete cascade;`,
    );
  }
}
