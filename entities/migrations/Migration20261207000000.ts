import { Migration } from '@mikro-orm/migrations';

/**
 * Two indexes on `organization_id` alone, each the leading column of another index of its table
 * ((organization_id, status) on jobs, (organization_id, media_type) on media): the wider index
 * serves every lookup by organization, and the foreign key's checks, the same; the narrow one only
 * cost every insert and status change one more index to write.
 */
export class Migration20261207000000 extends Migration {
  override up(): void {
    this.addSql(`drop index if exists "processing_jobs_organization_id_index";`);
    this.addSql(`drop index if exists "media_files_organization_id_index";`);
  }

  override down(): void {
    this.addSql(`create index "processing_jobs_organization_id_index" on "processing_jobs" ("organization_id");`);
    this.addSql(`create index "media_files_organization_id_index" on "media_files" ("organization_id");`);
  }
}
