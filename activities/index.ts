import type { ActivityDeps } from './deps.js';
import { createJobBookkeeping } from './job-bookkeeping.js';
import { createRunAction } from './run-action.js';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createJobBookkeeping(deps),
    runAction: createRunAction(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
