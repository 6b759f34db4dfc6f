import { Migration } from '@mikro-orm/migrations';
import { credentialTrigger } from '../credential-triggers.js';
import { USERS_TRIGGER_BEFORE_PLATFORM_ADMIN } from './Migration20261201100000.js';

/**
 * Platform administration by an explicit flag, set out of band (`npm run admin:grant`), instead
 * of by an email address nobody verified. Nobody has it after this migration: operators are
 * granted again by user id. Granting and revoking notify the API instances like a role change.
 */
export class Migration20261202000000 extends Migration {
  override up(): void {
    this.addSql(`alter table "users" add column "platform_admin" boolean not null default false;`);
    this.addSql(`drop trigger if exists "users_notify_credentials" on "users";`);
    this.addSql(`${credentialTrigger('users').expression};`);
  }

  override down(): void {
    this.addSql(`drop trigger if exists "users_notify_credentials" on "users";`);
    this.addSql(`${USERS_TRIGGER_BEFORE_PLATFORM_ADMIN};`);
    this.addSql(`alter table "users" drop column "platform_admin";`);
  }
}
