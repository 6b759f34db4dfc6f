import { Migration } from '@mikro-orm/migrations';

/**
 * The job submission outbox: a submitted job is recorded (queued) with its row here in one
 * transaction and answered at once; the API's dispatcher (api/services/job-dispatcher.ts) starts
 * its workflow afterwards and deletes the row. A row still here means "workflow not started yet":
 * the reconciler leaves such a job alone. Its arguments never hold provider keys (they are read
 * again when the workflow is started). Plain SQL, no entity: only the dispatcher reads it.
 */
export class Migration20261202040000 extends Migration {
  override up(): void {
    this.addSql(`
      create table "job_dispatches" (
        "job_id" uuid not null,
        "start" jsonb not null,
        "attempts" int not null default 0,
        "next_attempt_at" timestamptz not null default now(),
        "last_error" text null,
        "created_at" timestamptz not null default now(),
        primary key ("job_id"),
        constraint "job_dispatches_job_id_foreign" foreign key ("job_id") references "processing_jobs" ("id") on delete cascade
      );`);
    this.addSql(`create index "job_dispatches_next_attempt_at_index" on "job_dispatches" ("next_attempt_at");`);
  }

  override down(): void {
    this.addSql('drop table if exists "job_dispatches";');
  }
}
