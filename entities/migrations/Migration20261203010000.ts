import { Migration } from '@mikro-orm/migrations';
import { NOTIFY_JOB_EVENT_FUNCTION, NOTIFY_JOB_EVENT_FUNCTION_V1 } from '../job-event-notify.js';

/**
 * The event a job is created with notifies nobody (see CREATED_JOB_SETTING): submissions no
 * longer commit one at a time behind the notification queue's lock.
 */
export class Migration20261203010000 extends Migration {
  override up(): void {
    this.addSql(NOTIFY_JOB_EVENT_FUNCTION);
  }

  override down(): void {
    this.addSql(NOTIFY_JOB_EVENT_FUNCTION_V1);
  }
}
