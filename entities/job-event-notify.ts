import type { TriggerDef } from '@mikro-orm/core';

/** The channel API instances LISTEN on for new job events; see api/services/job-event-hub.ts. */
export const JOB_EVENTS_CHANNEL = 'mediaflow_job_events';

/** Sends the job id of each new event at commit (Postgres folds repeats within a transaction). */
export const NOTIFY_JOB_EVENT_FUNCTION = `
  create or replace function mediaflow_notify_job_event() returns trigger language plpgsql as $$
  begin
    perform pg_notify('${JOB_EVENTS_CHANNEL}', NEW.job_id::text);
    return null;
  end $$;`;

/** Created by Migration20261202020000; declared on the entity so the schema diff stays empty. */
export const jobEventTrigger: TriggerDef & { name: string; expression: string } = {
  name: 'job_events_notify',
  timing: 'after',
  events: ['insert'],
  expression: `create trigger "job_events_notify" after insert on "job_events" for each row execute function mediaflow_notify_job_event()`,
};
