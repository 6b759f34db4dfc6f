import type { EntityManager } from '@mikro-orm/postgresql';
import { removeMediaObjects } from '#lib/media-objects.js';
import type { ObjectStorage } from '#lib/storage.js';

/**
 * Deletes ended jobs for good: the stored objects of their results and artifacts (files of the job
 * and of each step) first, then the job rows, whose steps (results, transcripts, OCR text, hence
 * search entries) and events go with them by their foreign keys. A result file another job has
 * taken as its input keeps its row, marked `deleted`, so that job keeps its history. The job's
 * input is not touched: it is the caller's upload, with its own lifetime. Jobs that are not ended,
 * or already gone, are skipped; the rows are locked (SKIP LOCKED) so overlapping callers share the work.
 * Usage records name the job by id only and stay: usage outlives what it counted.
 * Returns the ids deleted.
 */
export async function deleteEndedJobs(em: EntityManager, storage: ObjectStorage, jobIds: string[]): Promise<string[]> {
  if (!jobIds.length) return [];
  return em.transactional(async (tx) => {
    const jobs = await tx.execute<{ id: string }[]>(
      `select id from processing_jobs where id in (${jobIds.map(() => '?').join(', ')})
          and status in ('completed', 'failed', 'cancelled') for update skip locked`,
      jobIds,
    );
    const ids = jobs.map((j) => j.id);
    if (!ids.length) return [];
    const marks = ids.map(() => '?').join(', ');
    const files = await tx.execute<{ id: string; storage_path: string; thumbnail_path: string | null; status: string }[]>(
      `select m.id, m.storage_path, m.thumbnail_path, m.status from media_files m
        where m.id in (select result_media_id from processing_jobs where id in (${marks}) and result_media_id is not null
                       union select result_media_id from job_steps where job_id in (${marks}) and result_media_id is not null)
        for update of m`,
      [...ids, ...ids],
    );
    for (const f of files) if (f.status !== 'deleted') await removeMediaObjects(storage, { storagePath: f.storage_path, thumbnailPath: f.thumbnail_path });
    await tx.execute(`delete from processing_jobs where id in (${marks})`, ids);
    if (files.length) {
      const fileMarks = files.map(() => '?').join(', ');
      const fileIds = files.map((f) => f.id);
      const referenced = `(exists (select 1 from processing_jobs j where j.input_media_id = media_files.id or j.result_media_id = media_files.id)
                 or exists (select 1 from job_steps s where s.result_media_id = media_files.id))`;
      await tx.execute(`delete from media_files where id in (${fileMarks}) and not ${referenced}`, fileIds);
      // What other jobs (or their steps) still refer to is kept as a deleted row.
      await tx.execute(`update media_files set status = 'deleted', thumbnail_path = null where id in (${fileMarks})`, fileIds);
    }
    return ids;
  });
}
