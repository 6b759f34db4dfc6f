import { Migration } from '@mikro-orm/migrations';

/**
 * A job's end of life: when the retention sweep deletes it with its steps, results, transcript and
 * events (set at submission from the organization's retention; null for jobs recorded before, which
 * follow the server default from their creation).
 */
export class Migration20261202011000 extends Migration {
  override up(): void {
    this.addSql(`alter table "processing_jobs" add column "expires_at" timestamptz null;`);
    this.addSql(`create index "processing_jobs_expires_at_index" on "processing_jobs" ("expires_at");`);
  }

  override down(): void {
    this.addSql(`drop index if exists "processing_jobs_expires_at_index";`);
    this.addSql(`alter table "processing_jobs" drop column if exists "expires_at";`);
  }
}
