import { Migration } from '@mikro-orm/migrations';
import { NOTIFY_JOB_EVENT_FUNCTION } from '../job-event-notify.js';

/**
 * The event a job is created with notifies nobody (see CREATED_JOB_SETTING): submissions no
 * longer commit one at a time behind the notification queue's lock.
 */
export class Migration20261203010000 extends Migration {
  override up(): void {
    this.addSql(NOTIFY_JOB_EVENT_FUNCTION);
  }

  override down(): void {
    this.addSql(`
  create or replace function mediaflow_notify_job_event() returns trigger language plpgsql as $$
  begin
    perform pg_notify('mediaflow_job_events', NEW.job_id::text);
    return null;
  end $$;`);
  }
}
