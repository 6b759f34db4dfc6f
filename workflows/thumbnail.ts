import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '#activities/index.js';

/** The image whose thumbnail is made. */
export interface ThumbnailInput {
  mediaId: string;
  organizationId: string;
}

export type ThumbnailOutcome = 'ready' | 'failed' | 'gone';

/** One workflow per media file, started with a duplicate-rejecting id policy: a thumbnail is made once. */
export const workflowIdForThumbnail = (mediaId: string): string => `thumbnail-${mediaId}`;

// An image that does not decode is recorded as failed by the activity itself; any other failure
// (storage or database away) is the platform's, and is retried until it passes: outages delay.
const { makeThumbnail } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Makes the thumbnail of an uploaded image: started when the upload completes. */
export async function thumbnail(input: ThumbnailInput): Promise<ThumbnailOutcome> {
  return makeThumbnail(input);
}
