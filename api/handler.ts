import type { Context, Middleware } from 'koa';
import type { operations } from './generated/openapi.js';
import type { Principal } from './auth/principal.js';

export type OperationId = keyof operations;

export interface AppState {
  requestId: string;
  /** The caller's organization (= principal.organizationId): every query of the request is scoped to it. */
  organizationId: string;
  /** Set by the authenticate middleware on every secured operation. */
  principal?: Principal;
  /** Set by job handlers so the access log can name them. */
  jobId?: string;
  workflowId?: string;
  /** Set by the idempotency middleware when the request repeats a stored one: the handler only receives, for comparison. */
  idempotentRepeat?: boolean;
  /** POST /api/v1/jobs: the file received and the text fields, for the idempotency fingerprint. */
  uploaded?: { media: { id: string; checksum_sha256: string; original_filename: string }; fields: Record<string, unknown> };
  input: { path: Record<string, unknown>; query: Record<string, unknown>; header: Record<string, unknown>; body: unknown };
}
export type AppContext = Context & { state: AppState };
export type AppMiddleware = Middleware<AppState>;

type Op<K extends OperationId> = operations[K];
type Part<K extends OperationId, L extends 'path' | 'query' | 'header'> = Op<K>['parameters'] extends { [P in L]?: infer T }
  ? [T] extends [never | undefined] ? Record<string, never> : NonNullable<T>
  : Record<string, never>;
type JsonBody<K extends OperationId> = Op<K> extends { requestBody: { content: { 'application/json': infer B } } }
  ? B
  : Op<K> extends { requestBody?: { content: { 'application/json': infer B } } }
    ? B | undefined
    : undefined;

/** The validated request, typed from the generated spec types. */
export interface Input<K extends OperationId> {
  path: Part<K, 'path'>;
  query: Part<K, 'query'>;
  body: JsonBody<K>;
}

type Responses<K extends OperationId> = Op<K>['responses'];
/** The JSON body the spec declares for status `S` of operation `K`. */
export type ResponseBody<K extends OperationId, S extends keyof Responses<K>> = Responses<K>[S] extends {
  content: { 'application/json': infer B };
}
  ? B
  : never;

export type Handler<K extends OperationId> = (ctx: AppContext, input: Input<K>) => Promise<void>;

/** An operation's route: optional middleware that runs before validation (body parsers), then the handler. */
export interface Route<K extends OperationId> {
  before?: AppMiddleware[];
  handle: Handler<K>;
}
export type Routes = { [K in OperationId]: Route<K> };

export function reply<K extends OperationId, S extends keyof Responses<K> & number>(
  ctx: AppContext,
  _operation: K,
  status: S,
  body: ResponseBody<K, S>,
): void {
  ctx.status = status;
  ctx.body = body;
}
