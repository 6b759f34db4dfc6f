import { Migration } from '@mikro-orm/migrations';

/**
 * Thumbnails made by the worker when an image upload completes: their state on the media file
 * (pending until made, ready, or failed with the reason), so a failure is recorded once rather
 * than retried on every request. Null: no thumbnail was ever asked for (audio, job results, and
 * images stored before this change, whose thumbnail is made on first request).
 */
export class Migration20261202010000 extends Migration {
  override up(): void {
    this.addSql(`alter table "media_files" add column "thumbnail_status" text null, add column "thumbnail_error" varchar(500) null;`);
    this.addSql(
      `alter table "media_files" add constraint "media_files_thumbnail_status_check" check ("thumbnail_status" in ('pending', 'ready', 'failed'));`,
    );
    this.addSql(`update "media_files" set "thumbnail_status" = 'ready' where "thumbnail_path" is not null;`);
  }

  override down(): void {
    this.addSql(`alter table "media_files" drop constraint if exists "media_files_thumbnail_status_check";`);
    this.addSql(`alter table "media_files" drop column "thumbnail_status", drop column "thumbnail_error";`);
  }
}
