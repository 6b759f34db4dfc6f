import { Migration } from '@mikro-orm/migrations';
import { credentialTrigger, NOTIFY_CREDENTIALS_FUNCTION, WATCHED_TABLES } from '../credential-triggers.js';

export const USERS_TRIGGER_BEFORE_PLATFORM_ADMIN = `create trigger "users_notify_credentials" after update of role, status, email, organization_id or delete on "users" for each row execute function mediaflow_notify_credentials('user', 'id')`;

/**
 * Credential change notifications: triggers on api_keys, users, organizations and refresh_tokens
 * that tell every API instance (LISTEN) which cached credentials to drop. The entities declare the
 * same triggers, so the schema diff stays empty.
 */
export class Migration20261201100000 extends Migration {
  override up(): void {
    this.addSql(NOTIFY_CREDENTIALS_FUNCTION);
    for (const table of WATCHED_TABLES) {
      // As this migration first wrote it: the users trigger watches platform_admin only from
      // Migration20261202000000 on, which adds that column.
      const expression = table === 'users' ? USERS_TRIGGER_BEFORE_PLATFORM_ADMIN : credentialTrigger(table).expression;
      this.addSql(`${expression};`);
    }
  }

  override down(): void {
    for (const table of WATCHED_TABLES) this.addSql(`drop trigger if exists "${credentialTrigger(table).name}" on "${table}";`);
    this.addSql('drop function if exists mediaflow_notify_credentials();');
  }
}
