import { ValidationError } from '#lib/errors.js';

/** A keyset page request: rows strictly after `after` in (created_at, id) order. */
export interface PageRequest {
  order: 'asc' | 'desc';
  limit: number;
  cursor?: string;
}

interface Position {
  /** created_at with microseconds, as Postgres stores it (a JS Date would lose them). */
  c: string;
  i: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The `?` placeholders of these fragments as pg's numbered ones, for queries sent on the pg pool. */
export const numbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/** SQL that renders a timestamptz column as the cursor's created_at. */
export const cursorTime = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

// Opaque to clients: base64url JSON of the last row's position.
export const encodeCursor = (p: Position): string => Buffer.from(JSON.stringify(p)).toString('base64url');

function decodeCursor(cursor: string): Position {
  try {
    const p = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Position;
    if (typeof p?.c === 'string' && ISO.test(p.c) && typeof p.i === 'string' && UUID.test(p.i)) return p;
  } catch {
    // reported below
  }
  throw new ValidationError('Invalid cursor', { fields: [{ field: 'cursor', location: 'query', message: 'is not a cursor returned by this list' }] });
}

/**
 * Builds `where` fragments and the order/limit of a keyset query on (created_at, id) of `alias`.
 * Fetches one row more than asked, to know whether another page exists.
 */
export function keyset(alias: string, page: PageRequest): { where: string[]; params: unknown[]; orderLimit: string } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (page.cursor) {
    const p = decodeCursor(page.cursor);
    where.push(`(${alias}.created_at, ${alias}.id) ${page.order === 'asc' ? '>' : '<'} (?::timestamptz, ?::uuid)`);
    params.push(p.c, p.i);
  }
  const dir = page.order === 'asc' ? 'asc' : 'desc';
  return { where, params, orderLimit: `order by ${alias}.created_at ${dir}, ${alias}.id ${dir} limit ${page.limit + 1}` };
}

/** Cuts the extra row and derives next_cursor from the last row kept. */
export function pageOf<T extends { id: string; c: string }>(rows: T[], limit: number): { rows: T[]; nextCursor: string | null } {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return { rows: kept, nextCursor: rows.length > limit && last ? encodeCursor({ c: last.c, i: last.id }) : null };
}

/** created_after (inclusive) and created_before (exclusive) on `alias`.created_at. */
export function createdRange(alias: string, range: { createdAfter?: string; createdBefore?: string }, where: string[], params: unknown[]): void {
  if (range.createdAfter) {
    where.push(`${alias}.created_at >= ?::timestamptz`);
    params.push(range.createdAfter);
  }
  if (range.createdBefore) {
    where.push(`${alias}.created_at < ?::timestamptz`);
    params.push(range.createdBefore);
  }
}
