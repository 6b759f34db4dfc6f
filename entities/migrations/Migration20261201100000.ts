import { Migration } from '@mikro-orm/migrations';
import { credentialTrigger, NOTIFY_CREDENTIALS_FUNCTION, WATCHED_TABLES } from '../credential-triggers.js';

/**
 * Credential change notifications: triggers on api_keys, users, organizations and refresh_tokens
 * that tell every API instance (LISTEN) which cached credentials to drop. The entities declare the
 * same triggers, so the schema diff stays empty.
 */
export class Migration20261201100000 extends Migration {
  override up(): void {
    this.addSql(NOTIFY_CREDENTIALS_FUNCTION);
    for (const table of WATCHED_TABLES) this.addSql(`${credentialTrigger(table).expression};`);
  }

  override down(): void {
    for (const table of WATCHED_TABLES) this.addSql(`drop trigger if exists "${credentialTrigger(table).name}" on "${table}";`);
    this.addSql('drop function if exists mediaflow_notify_credentials();');
  }
}
