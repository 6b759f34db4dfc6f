import type { ErrorBody } from './types';

type FieldError = { field: string; location: string; message: string };

/** An error reply of the API (its `Error` schema), or a network failure, in words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
    readonly fields: FieldError[] = [],
  ) {
    super(message);
  }

  /** One line for a toast or an error box: what happened and the request id to quote. */
  get description(): string {
    const fields = this.fields.map((f) => `${f.field}: ${f.message}`).join('; ');
    return [fields, this.requestId ? `Request id ${this.requestId}` : ''].filter(Boolean).join(' · ');
  }

  static async fromResponse(res: Response, body?: unknown): Promise<ApiError> {
    let parsed = body;
    if (parsed === undefined) {
      try {
        parsed = await res.clone().json();
      } catch {
        parsed = undefined;
      }
    }
    const err = (parsed as ErrorBody | undefined)?.error;
    const requestId = err?.request_id ?? res.headers.get('x-request-id') ?? undefined;
    if (err && typeof err.message === 'string') {
      const fields = Array.isArray(err.details?.fields) ? (err.details.fields as FieldError[]) : [];
      return new ApiError(res.status, err.code, err.message, requestId, fields);
    }
    return new ApiError(res.status, 'HTTP_' + res.status, `The server answered ${res.status} ${res.statusText}`.trim(), requestId);
  }
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The value of an openapi-fetch call, or its error as an ApiError. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(0, 'NETWORK_ERROR', `The API could not be reached (${errorMessage(err)})`);
  }
  if (result.error !== undefined || !result.response.ok) throw await ApiError.fromResponse(result.response, result.error);
  return result.data as T;
}
