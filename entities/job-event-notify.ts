import type { TriggerDef } from '@mikro-orm/core';

/** The channel API instances LISTEN on for new job events; see api/services/job-event-hub.ts. */
export const JOB_EVENTS_CHANNEL = 'mediaflow_job_events';

/**
 * Set (local to its transaction) to the id of the job the statement creates: that job's events
 * notify nobody. No stream can follow a job before the statement creating it has committed, and
 * a notifying commit holds a database-wide lock until its WAL is flushed (Postgres serializes
 * them to keep the queue in commit order), which halved the rate submissions could commit.
 */
export const CREATED_JOB_SETTING = 'mediaflow.created_job';

/** The first version (Migration20261202020000), kept as written: its migrations must not change. */
export const NOTIFY_JOB_EVENT_FUNCTION_V1 = `
  create or replace function mediaflow_notify_job_event() returns trigger language plpgsql as $$
  begin
    perform pg_notify('mediaflow_job_events', NEW.job_id::text);
    return null;
  end $$;`;

/** Sends the job id of each new event at commit (Postgres folds repeats within a transaction). */
export const NOTIFY_JOB_EVENT_FUNCTION = `
  create or replace function mediaflow_notify_job_event() returns trigger language plpgsql as $$
  begin
    if NEW.job_id::text is distinct from current_setting('${CREATED_JOB_SETTING}', true) then
      perform pg_notify('${JOB_EVENTS_CHANNEL}', NEW.job_id::text);
    end if;
    return null;
  end $$;`;

/** Created by Migration20261202020000; declared on the entity so the schema diff stays empty. */
export const jobEventTrigger: TriggerDef & { name: string; expression: string } = {
  name: 'job_events_notify',
  timing: 'after',
  events: ['insert'],
  expression: `create trigger "job_events_notify" after insert on "job_events" for each row execute function mediaflow_notify_job_event()`,
};
