import { Writable } from 'node:stream';
import argon2 from 'argon2';
import { SignJWT } from 'jose';
import { UserSchema } from '#entities/index.js';
import { createLogger } from '#lib/logger.js';
import { startHarness, type Harness } from './support/harness.js';
import { client } from './support/tenants.js';

let h: Harness;
let logs = '';
beforeAll(async () => {
  // Everything the API logs, at every level, to check that no secret is ever written.
  const sink = new Writable({ write: (chunk, _enc, done) => ((logs += chunk.toString()), done()) });
  h = await startHarness({ logger: createLogger('trace', 'api', sink) });
});
afterAll(async () => {
  await h?.stop();
});

type Json = Record<string, any>;
const json = async (res: Response) => (await res.json()) as Json;
const anon = () => h.as({});
const secrets: string[] = [];
const remember = <T extends Json>(s: T): T => {
  for (const k of ['access_token', 'refresh_token', 'api_key', 'invitation_token', 'password']) if (typeof s[k] === 'string') secrets.push(s[k]);
  return s;
};

async function expectError(res: Response, status: number, code: string) {
  const body = await json(res);
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
  return body;
}

async function register(password = 'correct horse battery') {
  const email = `user-${Math.random().toString(36).slice(2)}@Example.test`;
  secrets.push(password);
  const res = await anon().post('/api/v1/auth/register', { organization_name: 'Acme', name: 'Ada', email, password });
  expect(res.status).toBe(201);
  return { email, password, session: remember(await json(res)) };
}

test('the schema of the identity tables matches the entities (no pending diff)', async () => {
  const diff = await h.common.orm.schema.getUpdateSchemaSQL({ wrap: false });
  expect(diff.split('\n').filter((l) => /"(users|refresh_tokens|api_keys)"/.test(l))).toEqual([]);
});

test('register creates an organization and its owner, signed in; me shows them', async () => {
  const { email, session } = await register();
  expect(session).toMatchObject({
    token_type: 'bearer',
    expires_in: 900,
    user: { email: email.toLowerCase(), role: 'owner', status: 'active' },
    organization: { name: 'Acme', slug: expect.stringMatching(/^acme-[0-9a-f]{8}$/) },
  });
  const me = await client(h.url, { accessToken: session.access_token }).fetch('/api/v1/auth/me');
  expect(me.status).toBe(200);
  expect(await json(me)).toMatchObject({ user: { id: session.user.id }, organization: { id: session.organization.id }, permissions: expect.arrayContaining(['org:delete', 'org:admin']) });

  // The same email again is a conflict, whatever its case.
  const again = await anon().post('/api/v1/auth/register', { organization_name: 'X', name: 'Y', email: email.toUpperCase(), password: 'another password' });
  await expectError(again, 409, 'CONFLICT');
});

test('protected fields cannot be set at registration', async () => {
  const res = await anon().post('/api/v1/auth/register', { organization_name: 'X', name: 'Y', email: 'p@example.test', password: 'long enough pw', role: 'admin' });
  await expectError(res, 400, 'VALIDATION_ERROR');
});

test('passwords are stored as argon2id with at least OWASP parameters, and rehashed on login when parameters change', async () => {
  const { email, password, session } = await register();
  const em = h.common.orm.em.fork();
  const user = await em.findOneOrFail(UserSchema, session.user.id, { populate: ['passwordHash'] });
  expect(user.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);

  // A hash made with older (weaker) parameters is replaced at the next successful login.
  const weak = await argon2.hash(password, { type: argon2.argon2id, memoryCost: 8192, timeCost: 1, parallelism: 1 });
  await em.nativeUpdate(UserSchema, { id: user.id }, { passwordHash: weak });
  expect((await anon().post('/api/v1/auth/login', { email, password })).status).toBe(200);
  const after = await h.common.orm.em.fork().findOneOrFail(UserSchema, user.id, { populate: ['passwordHash'] });
  expect(after.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
  expect(await argon2.verify(after.passwordHash!, password)).toBe(true);
});

test('login: a wrong password and an unknown email get the same answer', async () => {
  const { email, password } = await register();
  const ok = await anon().post('/api/v1/auth/login', { email: email.toUpperCase(), password });
  expect(ok.status).toBe(200);
  remember(await json(ok));

  const wrong = await expectError(await anon().post('/api/v1/auth/login', { email, password: 'not the password' }), 401, 'UNAUTHORIZED');
  const unknown = await expectError(await anon().post('/api/v1/auth/login', { email: `nobody-${Date.now()}@example.test`, password: 'not the password' }), 401, 'UNAUTHORIZED');
  expect(wrong.error.message).toBe(unknown.error.message);
  expect(wrong.error.details).toEqual(unknown.error.details);
});

test('login failures are limited harder: after 5 the answer is 429 with Retry-After, even with the right password', async () => {
  const { email, password } = await register();
  for (let i = 0; i < 5; i++) await expectError(await anon().post('/api/v1/auth/login', { email, password: `wrong ${i}` }), 401, 'UNAUTHORIZED');
  const locked = await anon().post('/api/v1/auth/login', { email, password });
  await expectError(locked, 429, 'RATE_LIMITED');
  expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
});

test('refresh rotates the refresh token; reusing a rotated one revokes the whole session', async () => {
  const { session } = await register();
  const first = await anon().post('/api/v1/auth/refresh', { refresh_token: session.refresh_token });
  expect(first.status).toBe(200);
  const rotated = remember(await json(first));
  expect(rotated.refresh_token).not.toBe(session.refresh_token);
  const bearer = client(h.url, { accessToken: rotated.access_token });
  expect((await bearer.fetch('/api/v1/auth/me')).status).toBe(200);

  // The old token again: theft is assumed, the family dies, including the newest tokens.
  await expectError(await anon().post('/api/v1/auth/refresh', { refresh_token: session.refresh_token }), 401, 'UNAUTHORIZED');
  await expectError(await anon().post('/api/v1/auth/refresh', { refresh_token: rotated.refresh_token }), 401, 'UNAUTHORIZED');
  await expectError(await bearer.fetch('/api/v1/auth/me'), 401, 'UNAUTHORIZED');
  await expectError(await anon().post('/api/v1/auth/refresh', { refresh_token: 'mfr_made-up' }), 401, 'UNAUTHORIZED');
});

test('logout ends the session: its access and refresh tokens stop working at once', async () => {
  const { email, password, session } = await register();
  const other = remember(await json(await anon().post('/api/v1/auth/login', { email, password })));
  const bearer = client(h.url, { accessToken: session.access_token });
  expect((await bearer.post('/api/v1/auth/logout', {})).status).toBe(204);
  await expectError(await bearer.fetch('/api/v1/auth/me'), 401, 'UNAUTHORIZED');
  await expectError(await anon().post('/api/v1/auth/refresh', { refresh_token: session.refresh_token }), 401, 'UNAUTHORIZED');
  // Another session of the same user goes on.
  expect((await client(h.url, { accessToken: other.access_token }).fetch('/api/v1/auth/me')).status).toBe(200);
});

test('change-password revokes the other sessions and keeps the current one', async () => {
  const { email, password, session } = await register();
  const other = remember(await json(await anon().post('/api/v1/auth/login', { email, password })));
  const current = client(h.url, { accessToken: session.access_token });

  await expectError(await current.post('/api/v1/auth/change-password', { current_password: 'wrong one', new_password: 'a brand new password' }), 403, 'FORBIDDEN');
  await expectError(await current.post('/api/v1/auth/change-password', { current_password: password, new_password: 'short' }), 400, 'VALIDATION_ERROR');
  secrets.push('a brand new password');
  expect((await current.post('/api/v1/auth/change-password', { current_password: password, new_password: 'a brand new password' })).status).toBe(204);

  expect((await current.fetch('/api/v1/auth/me')).status).toBe(200);
  await expectError(await client(h.url, { accessToken: other.access_token }).fetch('/api/v1/auth/me'), 401, 'UNAUTHORIZED');
  await expectError(await anon().post('/api/v1/auth/refresh', { refresh_token: other.refresh_token }), 401, 'UNAUTHORIZED');
  await expectError(await anon().post('/api/v1/auth/login', { email, password }), 401, 'UNAUTHORIZED');
  expect((await anon().post('/api/v1/auth/login', { email, password: 'a brand new password' })).status).toBe(200);
});

test('me and change-password need a user: an API key is refused', async () => {
  await expectError(await h.fetch('/api/v1/auth/me'), 401, 'UNAUTHORIZED');
});

test('bad bearer tokens: none, garbage, alg none, another key, expired', async () => {
  const { session } = await register();
  const { jwtIssuer: iss, jwtAudience: aud, jwtSecret } = h.config.auth;
  const claims = { org: session.organization.id, sid: 'x' };
  const header = (alg: string) => Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ ...claims, sub: session.user.id, iss, aud, iat: 1, exp: 4102444800 })).toString('base64url');
  const past = Math.floor(Date.now() / 1000) - 60;
  const sign = (secret: string, exp: number) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(session.user.id).setIssuer(iss).setAudience(aud).setIssuedAt(exp - 900).setExpirationTime(exp).sign(new TextEncoder().encode(secret));

  await expectError(await anon().fetch('/api/v1/auth/me'), 401, 'UNAUTHORIZED');
  await expectError(await anon().fetch('/api/v1/auth/me', { headers: { authorization: 'Basic abc' } }), 401, 'UNAUTHORIZED');
  await expectError(await client(h.url, { accessToken: 'garbage' }).fetch('/api/v1/auth/me'), 401, 'UNAUTHORIZED');
  await expectError(await client(h.url, { accessToken: `${header('none')}.${payload}.` }).fetch('/api/v1/auth/me'), 401, 'UNAUTHORIZED');
  await expectError(await client(h.url, { accessToken: await sign('another secret of at least 32 bytes!!', past + 3600) }).fetch('/api/v1/auth/me'), 401, 'UNAUTHORIZED');
  await expectError(await client(h.url, { accessToken: await sign(jwtSecret, past) }).fetch('/api/v1/auth/me'), 401, 'TOKEN_EXPIRED');
});

test('replies never contain password or key hashes, and nothing secret is logged', async () => {
  const { session } = await register();
  const bearer = client(h.url, { accessToken: session.access_token });
  const key = remember(await json(await bearer.post('/api/v1/api-keys', { name: 'k', permissions: ['media:read'] })));
  const replies = [
    await (await bearer.fetch('/api/v1/auth/me')).text(),
    await (await bearer.fetch('/api/v1/api-keys')).text(),
    await (await bearer.fetch(`/api/v1/api-keys/${key.key_id}`)).text(),
    await (await bearer.fetch(`/api/v1/organizations/${session.organization.id}/users`)).text(),
  ];
  for (const r of replies) {
    expect(r).not.toMatch(/argon2|hash/i);
    expect(r).not.toContain(key.api_key);
  }
  expect(logs.length).toBeGreaterThan(0);
  for (const s of secrets) expect(logs).not.toContain(s);
});
