import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { workflowIdForThumbnail, type ThumbnailInput } from '#workflows/thumbnail.js';

/**
 * Starts the thumbnail workflow of an image: once per media file (a second start of the same id,
 * from a retried upload step or a request finding it still pending, is refused by Temporal and
 * ignored here); `redo` runs it again after an earlier run closed (its stored object was lost).
 * Returns false when a run was already there.
 */
export async function startThumbnail(client: Client, taskQueue: string, input: ThumbnailInput, mode: 'first' | 'redo' = 'first'): Promise<boolean> {
  try {
    await client.workflow.start('thumbnail', {
      taskQueue,
      workflowId: workflowIdForThumbnail(input.mediaId),
      args: [input],
      workflowIdReusePolicy: mode === 'first' ? WorkflowIdReusePolicy.REJECT_DUPLICATE : WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}
