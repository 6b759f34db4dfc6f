// The role matrix, generated from the spec: every secured operation is called with each role's
// bearer token and with API keys of each single scope. The operation's `x-permission` decides the
// answer: without it, 403 FORBIDDEN naming that permission; with it, never that refusal (whatever
// the handler then says about the request, which is left unspecified here); never a 5xx; a
// credential type the operation does not accept is 401. tests/roles.test.ts covers what roles may
// do to each other (inviting, promoting, removing).
import { ROLE_PERMISSIONS, SCOPES, type Permission } from '#api/auth/permissions.js';
import type { UserRole } from '#entities/index.js';
import { startHarness, type Harness } from '../support/harness.js';
import { client, type ApiClient } from '../support/tenants.js';
import { errorFormatProblem, fillPath, operations, send } from './spec-requests.js';

let h: Harness;
const bearers: Partial<Record<UserRole, ApiClient>> = {};
const keys: Partial<Record<string, ApiClient>> = {};

async function member(role: UserRole): Promise<ApiClient> {
  const t = h.tenant;
  const invited = (await (await t.post(`/api/v1/organizations/${t.organizationId}/users`, { email: `${role}-${Date.now()}-${Math.random()}@example.test`, name: role, role })).json()) as Record<string, any>;
  const session = (await (await h.as({}).post('/api/v1/auth/accept-invitation', { invitation_token: invited.invitation_token, password: `${role} passphrase 123` })).json()) as Record<string, any>;
  return client(h.url, { accessToken: session.access_token });
}

beforeAll(async () => {
  h = await startHarness();
  bearers.owner = h.tenant.bearer;
  bearers.admin = await member('admin');
  bearers.member = await member('member');
  for (const scope of SCOPES) {
    const key = (await (await h.tenant.post('/api/v1/api-keys', { name: `only ${scope}`, permissions: [scope] })).json()) as { api_key: string };
    keys[scope] = client(h.url, { apiKey: key.api_key });
  }
});
afterAll(async () => {
  await h?.stop();
});

// Operations that end the caller's session run last, so the others still have one.
const ENDS_SESSION = new Set(['logout']);
const secured = operations.filter((op) => op.security.length > 0).sort((a, b) => Number(ENDS_SESSION.has(a.operationId)) - Number(ENDS_SESSION.has(b.operationId)));

const accepts = (op: (typeof secured)[number], scheme: 'bearerAuth' | 'apiKeyAuth') => op.security.some((alt) => alt.includes(scheme));
const roleMay = (role: UserRole, p: Permission) => p === 'authenticated' || (ROLE_PERMISSIONS[role] as readonly string[]).includes(p);
const keyMay = (scope: string, p: Permission) => p === 'authenticated' || p === scope;

test('the matrix covers every secured operation', () => {
  expect(secured.length).toBeGreaterThan(50);
  expect(secured.every((op) => op.permission)).toBe(true);
});

test.each(secured.map((op) => [op.operationId, op] as const))('%s: each role and each scope gets what its x-permission says', async (operationId, op) => {
  const permission = op.permission as Permission;
  const path = fillPath(op);
  const results: unknown[] = [];
  const expected: unknown[] = [];
  const credentials: [string, ApiClient, 'bearerAuth' | 'apiKeyAuth', boolean][] = [
    ...(Object.entries(bearers) as [UserRole, ApiClient][]).map(([role, c]) => [`role ${role}`, c, 'bearerAuth', roleMay(role, permission)] as [string, ApiClient, 'bearerAuth', boolean]),
    ...Object.entries(keys).map(([scope, c]) => [`key ${scope}`, c!, 'apiKeyAuth', keyMay(scope, permission)] as [string, ApiClient, 'apiKeyAuth', boolean]),
  ];
  for (const [who, c, scheme, may] of credentials) {
    const r = await send(c, op.method, path, { headers: op.path.startsWith('/api/v1/uploads') ? { 'tus-resumable': '1.0.0' } : {} });
    let code: string | undefined;
    let required: unknown;
    try {
      const e = (JSON.parse(r.text) as { error?: { code?: string; details?: { required?: unknown } } }).error;
      code = e?.code;
      required = e?.details?.required;
    } catch {
      /* not JSON: judged below */
    }
    const refusedForPermission = r.status === 403 && (op.method === 'head' || (code === 'FORBIDDEN' && required === permission));
    results.push({ who, fivexx: r.status >= 500, format: errorFormatProblem(r, op.method), outcome: !accepts(op, scheme) ? r.status : refusedForPermission ? 'refused' : 'let through' });
    expected.push({ who, fivexx: false, format: null, outcome: !accepts(op, scheme) ? 401 : may ? 'let through' : 'refused' });
  }
  expect({ operationId, permission, results }).toEqual({ operationId, permission, results: expected });
});
