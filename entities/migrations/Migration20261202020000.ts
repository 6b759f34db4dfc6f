import { Migration } from '@mikro-orm/migrations';
import { jobEventTrigger } from '../job-event-notify.js';

/**
 * New job events notify every API instance (LISTEN), so one query per job, not one poll per
 * open event stream, follows a job. The entity declares the same trigger.
 */
export class Migration20261202020000 extends Migration {
  override up(): void {
    this.addSql(`
  create or replace function mediaflow_notify_job_event() returns trigger language plpgsql as $$
  begin
    perform pg_notify('mediaflow_job_events', NEW.job_id::text);
    return null;
  end $$;`);
    this.addSql(`${jobEventTrigger.expression};`);
  }

  override down(): void {
    this.addSql(`drop trigger if exists "${jobEventTrigger.name}" on "job_events";`);
    this.addSql('drop function if exists mediaflow_notify_job_event();');
  }
}
