import type { ActivityDeps, WebhookActivityConfig } from '../deps.js';

/** The worker always hands this in; a test building partial deps for other activities need not. */
export function webhookConfigOf(deps: ActivityDeps): WebhookActivityConfig {
  if (!deps.webhooks) throw new Error('webhook activities need ActivityDeps.webhooks');
  return deps.webhooks;
}
