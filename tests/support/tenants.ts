// API clients for tests: each carries one set of credentials, so tests act as a given user or key.
import { randomUUID } from 'node:crypto';

export interface Credentials {
  apiKey?: string;
  accessToken?: string;
}

export interface ApiClient {
  /** fetch against the API with this client's credentials (headers given in `init` win). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** POST a JSON body. */
  post(path: string, body: unknown): Promise<Response>;
  /** Multipart upload of one file to /api/v1/media/upload. */
  upload(body: Buffer, filename: string, type?: string): Promise<Response>;
}

/** A registered organization with its owner, signed in, and an owner API key with every scope. */
export interface Tenant extends ApiClient {
  organizationId: string;
  userId: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  apiKey: string;
  apiKeyId: string;
  /** The same owner, authenticated with the bearer token instead of the key. */
  bearer: ApiClient;
}

export const ALL_SCOPES = ['media:read', 'media:write', 'jobs:read', 'jobs:create', 'usage:read', 'keys:manage', 'org:admin'];

export function client(url: string, credentials: Credentials): ApiClient {
  const auth: Record<string, string> = {};
  if (credentials.apiKey) auth['x-api-key'] = credentials.apiKey;
  if (credentials.accessToken) auth.authorization = `Bearer ${credentials.accessToken}`;
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, { ...init, headers: { ...auth, ...Object.fromEntries(new Headers(init.headers).entries()) } });
  return {
    fetch: call,
    post: (path, body) => call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    upload(body, filename, type = 'application/octet-stream') {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(body)], { type }), filename);
      return call('/api/v1/media/upload', { method: 'POST', body: form });
    },
  };
}

async function expectOk(res: Response, what: string): Promise<Record<string, any>> {
  const body = (await res.json()) as Record<string, any>;
  if (!res.ok) throw new Error(`${what} failed: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Registers a new organization and owner through the real API, then creates an owner key. */
export async function registerTenant(url: string, opts: { name?: string; email?: string } = {}): Promise<Tenant> {
  const anonymous = client(url, {});
  const email = opts.email ?? `owner-${randomUUID()}@example.test`;
  const password = `pw-${randomUUID()}`;
  const session = await expectOk(
    await anonymous.post('/api/v1/auth/register', { organization_name: opts.name ?? 'Test org', name: 'Owner', email, password }),
    'register',
  );
  const bearer = client(url, { accessToken: session.access_token });
  const key = await expectOk(await bearer.post('/api/v1/api-keys', { name: 'test harness', permissions: ALL_SCOPES }), 'create API key');
  return {
    ...client(url, { apiKey: key.api_key }),
    organizationId: session.organization.id,
    userId: session.user.id,
    email,
    password,
    accessToken: session.access_token,
    refreshToken: session.refresh_token,
    apiKey: key.api_key,
    apiKeyId: key.key_id,
    bearer,
  };
}
