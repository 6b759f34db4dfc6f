import { Migration } from '@mikro-orm/migrations';

/**
 * Job lifecycle: pipeline steps (job_steps, one row per step, which is also the step's artifact),
 * the job event log the SSE stream reads (job_events), and the pipeline / cancellation columns of
 * processing_jobs.
 *
 * Hand-written, kept equal to what MikroORM derives from the entities (tests/entities.test.ts
 * checks the schema diff).
 */
export class Migration20261121020000 extends Migration {
  override up(): void {
    this.addSql(`
      create table "job_steps" (
        "id" uuid not null default gen_random_uuid(),
        "job_id" uuid not null,
        "step_index" int not null,
        "action_id" varchar(50) not null,
        "parameters" jsonb not null default '{}',
        "status" text not null default 'pending',
        "attempts" int not null default 0,
        "progress" double precision not null default 0,
        "started_at" timestamptz null,
        "completed_at" timestamptz null,
        "processing_time_ms" int null,
        "result_type" varchar(10) null,
        "result_media_id" uuid null,
        "result_data" jsonb null,
        "result" jsonb null,
        "error_code" varchar(50) null,
        "error_message" text null,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now(),
        constraint "job_steps_pkey" primary key ("id"),
        constraint "job_steps_job_id_step_index_unique" unique ("job_id", "step_index"),
        constraint "job_steps_status_check" check ("status" in ('pending', 'processing', 'completed', 'failed', 'cancelled')),
        constraint "job_steps_job_id_foreign" foreign key ("job_id") references "processing_jobs" ("id") on delete cascade,
        constraint "job_steps_result_media_id_foreign" foreign key ("result_media_id") references "media_files" ("id") on delete set null
      );`);

    this.addSql(`
      create table "job_events" (
        "id" bigserial primary key,
        "job_id" uuid not null,
        "type" text not null,
        "data" jsonb not null,
        "created_at" timestamptz not null default now(),
        constraint "job_events_type_check" check ("type" in ('status', 'progress')),
        constraint "job_events_job_id_foreign" foreign key ("job_id") references "processing_jobs" ("id") on delete cascade
      );`);
    this.addSql(`create index "job_events_job_id_id_index" on "job_events" ("job_id", "id");`);

    this.addSql(`
      alter table "processing_jobs"
        add "current_step" int null,
        add "total_steps" int not null default 1,
        add "cancelled_at" timestamptz null,
        add "cancelled_by" varchar(255) null,
        add "cancel_reason" text null;`);
    // Jobs submitted before pipelines: one step each, its outcome already on the job.
    this.addSql(`
      insert into "job_steps" ("job_id", "step_index", "action_id", "parameters", "status", "attempts", "progress",
                               "started_at", "completed_at", "processing_time_ms", "result_type", "result_media_id",
                               "result_data", "error_code", "error_message")
      select "id", 0, "action_id", "parameters",
             case when "status" in ('pending', 'queued') then 'pending' else "status" end,
             case when "started_at" is null then 0 else 1 end, "progress",
             "started_at", "completed_at", "processing_time_ms", "result_type", "result_media_id",
             "result_data", "error_code", "error_message"
      from "processing_jobs";`);
  }
}
