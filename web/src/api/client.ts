import createClient from 'openapi-fetch';
import { ApiError } from './errors';
import { useSession } from './session';
import type { paths, Session } from './types';

export const SESSION_EXPIRED = 'Your session has expired. Sign in again to continue.';

let refreshing: Promise<string | undefined> | undefined;

/** Trades the refresh token for a new session once, however many requests ask at the same time. */
export function refreshAccessToken(): Promise<string | undefined> {
  refreshing ??= (async () => {
    const { refreshToken } = useSession.getState();
    if (!refreshToken) return undefined;
    try {
      const res = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: refreshToken }),
      });
      if (!res.ok) {
        // A network failure is not an expiry; a refused refresh token is.
        if (res.status === 401 || res.status === 400) useSession.getState().signOut(SESSION_EXPIRED);
        return undefined;
      }
      const session = (await res.json()) as Session;
      useSession.getState().updateTokens(session);
      return session.access_token;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

/** A token valid for at least the next half minute, refreshed first when it is about to expire. */
export async function currentToken(): Promise<string | undefined> {
  const { accessToken, accessExpiresAt } = useSession.getState();
  if (accessToken && accessExpiresAt && accessExpiresAt - Date.now() > 30_000) return accessToken;
  return (await refreshAccessToken()) ?? accessToken;
}

/**
 * fetch with the session's bearer token; a 401 refreshes the token once and repeats the request.
 * Every call of the console goes through here (the typed client, downloads, event streams).
 */
export async function authFetch(input: Request | string, init?: RequestInit): Promise<Response> {
  const request = typeof input === 'string' ? new Request(input, init) : input;
  const retry = request.clone();
  const token = await currentToken();
  if (token) request.headers.set('authorization', `Bearer ${token}`);
  const res = await fetch(request);
  if (res.status !== 401 || !useSession.getState().refreshToken) return res;
  const fresh = await refreshAccessToken();
  if (!fresh) {
    useSession.getState().signOut(SESSION_EXPIRED);
    return res;
  }
  retry.headers.set('authorization', `Bearer ${fresh}`);
  const again = await fetch(retry);
  if (again.status === 401) useSession.getState().signOut(SESSION_EXPIRED);
  return again;
}

/** The typed API client (paths and bodies from openapi/openapi.yaml). */
export const api = createClient<paths>({ baseUrl: '', fetch: (req: Request) => authFetch(req) });

/** GET of a binary endpoint as a Blob, with the API's error as an ApiError. */
export async function fetchBlob(url: string): Promise<Blob> {
  const res = await authFetch(sameOrigin(url));
  if (!res.ok) throw await ApiError.fromResponse(res);
  return res.blob();
}

/** Saves a download in the browser without putting any credential in a URL. */
export async function download(url: string, fallbackName: string): Promise<void> {
  const res = await authFetch(sameOrigin(url));
  if (!res.ok) throw await ApiError.fromResponse(res);
  const disposition = res.headers.get('content-disposition') ?? '';
  const name = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1] ?? /filename="?([^";]+)"?/i.exec(disposition)?.[1];
  const blob = await res.blob();
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = name ? decodeURIComponent(name) : fallbackName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

/** The API's download URLs carry its public base URL; the console calls its own origin. */
export function sameOrigin(url: string): string {
  const u = new URL(url, window.location.origin);
  return u.pathname.startsWith('/api/') ? u.pathname + u.search : url;
}
