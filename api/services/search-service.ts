import { performance } from 'node:perf_hooks';
import { SEARCH_CONFIG, searchablePredicate, searchVector } from '#entities/search.js';
import { ValidationError } from '#lib/errors.js';
import type { ApiDeps } from '../deps.js';

export interface SearchQuery {
  query: string;
  filters?: {
    date_range?: { start?: string; end?: string };
    languages?: string[];
    models?: string[];
    media_types?: ('audio' | 'image')[];
  };
  limit: number;
  offset: number;
}

export interface SearchMatch {
  text: string;
  highlight: string;
  timestamp: number | null;
  end?: number;
  speaker?: string;
  confidence?: number;
}

export interface SearchResult {
  job_id: string;
  media_id: string;
  filename: string;
  media_type: 'audio' | 'image';
  action_id: string;
  language: string | null;
  model: string | null;
  relevance_score: number;
  highlight: string;
  matches: SearchMatch[];
  created_at: string;
}

const MAX_MATCHES = 20;
// <mark> around matches; ts_headline does not escape the text, so it is escaped first and the
// markers are chosen so they cannot occur in escaped text.
const OPEN = '\u0001';
const CLOSE = '\u0002';
const WHOLE_TEXT = `StartSel=${OPEN}, StopSel=${CLOSE}, MaxFragments=3, MinWords=8, MaxWords=30, FragmentDelimiter=" … "`;
const SEGMENT = `StartSel=${OPEN}, StopSel=${CLOSE}, HighlightAll=true`;

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const marked = (s: string) => escapeHtml(s).replaceAll(OPEN, '<mark>').replaceAll(CLOSE, '</mark>');

/** A date is its whole day: `start` from its first instant, `end` to its last. */
function instant(value: string, end: boolean): Date {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00.000Z`) : new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new ValidationError('Invalid date range', { fields: [{ field: `filters.date_range.${end ? 'end' : 'start'}`, location: 'body', message: 'is not a valid date' }] });
  }
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && end ? new Date(date.getTime() + 86_400_000 - 1) : date;
}

/**
 * Full-text search over an organization's transcripts and OCR text, in Postgres: the GIN index on
 * the steps' text (entities/search.ts) finds and ranks the results; the segments of each result
 * that match give the timestamps. Only completed steps of the organization's jobs whose input
 * has not been deleted are searched.
 */
// Lists go to Postgres as one JSON parameter: the driver would spread an array into several.
/** A row of the ranked query (raw SQL, so typed by hand). */
interface ResultRow {
  step_id: string;
  job_id: string;
  media_id: string;
  filename: string;
  media_type: 'image' | 'audio';
  action_id: string;
  created_at: string | Date;
  language: string | null;
  model: string | null;
  rank: string | number;
  highlight: string | null;
  total: string | number;
}

/** A matching segment of a step's transcript. */
interface SegmentRow {
  step_id: string;
  seg: Record<string, unknown>;
  highlight: string | null;
}

export function createSearchService(deps: ApiDeps) {
  const { orm } = deps;
  return {
    async search(organizationId: string, q: SearchQuery): Promise<{ results: SearchResult[]; total: number; queryTimeMs: number }> {
      const started = performance.now();
      const where: string[] = ['j."organization_id" = ?', searchablePredicate('s'), `m."status" <> 'deleted'`, `${searchVector('s')} @@ q.query`];
      const params: unknown[] = [q.query, organizationId];
      const f = q.filters ?? {};
      if (f.date_range?.start) {
        where.push('j."created_at" >= ?');
        params.push(instant(f.date_range.start, false));
      }
      if (f.date_range?.end) {
        where.push('j."created_at" <= ?');
        params.push(instant(f.date_range.end, true));
      }
      if (f.languages?.length) {
        where.push(`coalesce(s."result_data" #>> '{data,language}', s."result_data" #>> '{data,target_language}') in (select jsonb_array_elements_text(?::jsonb))`);
        params.push(JSON.stringify(f.languages));
      }
      if (f.models?.length) {
        where.push(`(s."result_data" #>> '{data,model}' in (select jsonb_array_elements_text(?::jsonb)) or s."result_data" #>> '{data,requested_model}' in (select jsonb_array_elements_text(?::jsonb)))`);
        params.push(JSON.stringify(f.models), JSON.stringify(f.models));
      }
      if (f.media_types?.length) {
        where.push('m."media_type"::text in (select jsonb_array_elements_text(?::jsonb))');
        params.push(JSON.stringify(f.media_types));
      }
      const em = orm.em.fork();
      const rows = await em.execute<ResultRow[]>(
        `with q as (select websearch_to_tsquery('${SEARCH_CONFIG}', ?) as query)
         select s."id" as step_id, j."id" as job_id, m."id" as media_id, m."original_filename" as filename, m."media_type",
                s."action_id", j."created_at",
                coalesce(s."result_data" #>> '{data,language}', s."result_data" #>> '{data,target_language}') as language,
                s."result_data" #>> '{data,model}' as model,
                ts_rank_cd(${searchVector('s')}, q.query, 32) as rank,
                ts_headline('${SEARCH_CONFIG}', coalesce(s."result_data" #>> '{data,text}', ''), q.query, '${WHOLE_TEXT}') as highlight,
                count(*) over () as total
           from "job_steps" s
           join "processing_jobs" j on j."id" = s."job_id"
           join "media_files" m on m."id" = j."input_media_id"
           cross join q
          where ${where.join(' and ')}
          order by rank desc, j."created_at" desc, s."id"
          limit ? offset ?`,
        [...params, q.limit, q.offset],
      );
      const stepIds = rows.map((r) => r.step_id as string);
      const segments = stepIds.length
        ? await em.execute<SegmentRow[]>(
            `with q as (select websearch_to_tsquery('${SEARCH_CONFIG}', ?) as query)
             select m.step_id, m.seg, m.highlight from (
               select s."id" as step_id, seg,
                      ts_headline('${SEARCH_CONFIG}', seg ->> 'text', q.query, '${SEGMENT}') as highlight,
                      row_number() over (partition by s."id" order by (seg ->> 'start')::float8) as n
                 from "job_steps" s
                 cross join q
                 cross join lateral jsonb_array_elements(case when jsonb_typeof(s."result_data" #> '{data,segments}') = 'array' then s."result_data" #> '{data,segments}' else '[]'::jsonb end) seg
                where s."id"::text in (select jsonb_array_elements_text(?::jsonb)) and to_tsvector('${SEARCH_CONFIG}'::regconfig, coalesce(seg ->> 'text', '')) @@ q.query
             ) m where m.n <= ${MAX_MATCHES}
             order by m.step_id, m.n`,
            [q.query, JSON.stringify(stepIds)],
          )
        : [];
      const byStep = new Map<string, SearchMatch[]>();
      for (const r of segments) {
        const seg = r.seg;
        const list = byStep.get(r.step_id) ?? [];
        list.push({
          text: String(seg.text ?? ''),
          highlight: marked(String(r.highlight ?? '')),
          timestamp: typeof seg.start === 'number' ? seg.start : null,
          ...(typeof seg.end === 'number' ? { end: seg.end } : {}),
          ...(typeof (seg.speaker_name ?? seg.speaker) === 'string' ? { speaker: String(seg.speaker_name ?? seg.speaker) } : {}),
          ...(typeof seg.confidence === 'number' ? { confidence: seg.confidence } : {}),
        });
        byStep.set(r.step_id, list);
      }
      const results = rows.map(
        (r): SearchResult => ({
          job_id: r.job_id,
          media_id: r.media_id,
          filename: r.filename,
          media_type: r.media_type,
          action_id: r.action_id,
          language: r.language ?? null,
          model: r.model ?? null,
          relevance_score: Math.round(Number(r.rank) * 10_000) / 10_000,
          highlight: marked(String(r.highlight ?? '')),
          matches: byStep.get(r.step_id) ?? [],
          created_at: new Date(r.created_at).toISOString(),
        }),
      );
      // A page past the end has no row to carry the total: count on its own.
      const total = rows.length
        ? Number(rows[0]!.total)
        : q.offset > 0
          ? Number(
              (
                await em.execute<{ n: string }[]>(
                  `with q as (select websearch_to_tsquery('${SEARCH_CONFIG}', ?) as query)
                   select count(*) as n from "job_steps" s join "processing_jobs" j on j."id" = s."job_id" join "media_files" m on m."id" = j."input_media_id" cross join q
                    where ${where.join(' and ')}`,
                  params,
                )
              )[0]!.n,
            )
          : 0;
      return { results, total, queryTimeMs: Math.round((performance.now() - started) * 100) / 100 };
    },
  };
}

