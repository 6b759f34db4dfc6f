import type { Client } from '@temporalio/client';

/**
 * How many times a job's step activity (`runJobStep`) ran. The workflow schedules each of the
 * action's attempts itself, and a started event records only its activity's last Temporal attempt,
 * so the attempts of every scheduled step activity are summed.
 */
export async function stepRuns(temporal: Client, workflowId: string): Promise<number> {
  const events = (await temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runJobStep').map((e) => String(e.eventId)));
  return events
    .filter((e) => e.activityTaskStartedEventAttributes && scheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)))
    .reduce((n, e) => n + Number(e.activityTaskStartedEventAttributes!.attempt), 0);
}
