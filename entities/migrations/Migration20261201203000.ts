import { Migration } from '@mikro-orm/migrations';
import { SEARCH_INDEX_SQL } from '../search.js';

/**
 * Full-text search over transcripts and OCR text: a GIN index on the tsvector of completed
 * transcription and OCR steps' text (entities/search.ts holds the one expression the index and the
 * search query share).
 */
export class Migration20261201203000 extends Migration {
  override up(): void {
    this.addSql(SEARCH_INDEX_SQL);
  }

  override down(): void {
    this.addSql(`drop index if exists "job_steps_text_search_index";`);
  }
}
