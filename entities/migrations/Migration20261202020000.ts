import { Migration } from '@mikro-orm/migrations';
import { jobEventTrigger, NOTIFY_JOB_EVENT_FUNCTION_V1 } from '../job-event-notify.js';

/**
 * New job events notify every API instance (LISTEN), so one query per job, not one poll per
 * open event stream, follows a job. The entity declares the same trigger.
 */
export class Migration20261202020000 extends Migration {
  override up(): void {
    this.addSql(NOTIFY_JOB_EVENT_FUNCTION_V1);
    this.addSql(`${jobEventTrigger.expression};`);
  }

  override down(): void {
    this.addSql(`drop trigger if exists "${jobEventTrigger.name}" on "job_events";`);
    this.addSql('drop function if exists mediaflow_notify_job_event();');
  }
}
