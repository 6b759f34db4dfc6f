// The text search index over job results. The query in api/services/search-service.ts uses the
// same expression and predicate, so Postgres answers it from the index.

/** Results whose `text` is searchable: transcripts and OCR text. */
export const SEARCHABLE_ACTIONS = ['aud_transcribe', 'aud_translate', 'img_ocr'] as const;

/** No stemming: words match exactly (case-insensitively) whatever the language. */
export const SEARCH_CONFIG = 'simple';

/** The tsvector of a step's result text, for a job_steps row aliased `alias`. */
export const searchVector = (alias: string) => `to_tsvector('${SEARCH_CONFIG}'::regconfig, coalesce(${alias}."result_data" #>> '{data,text}', ''))`;

export const searchablePredicate = (alias: string) =>
  `${alias}."status" = 'completed' and ${alias}."action_id" in (${SEARCHABLE_ACTIONS.map((a) => `'${a}'`).join(', ')})`;

export const SEARCH_INDEX_SQL = `create index if not exists "job_steps_text_search_index" on "job_steps" using gin (${searchVector('job_steps')}) where ${searchablePredicate('job_steps')};`;
