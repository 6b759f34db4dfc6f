import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { API_KEY_PATTERN, apiKeyChecksum, checkApiKeyFormat, createAccessTokens, digestsEqual, generateApiKey, sha256Hex } from './tokens.js';

const opts = { secret: randomBytes(32).toString('base64url'), issuer: 'mediaflow', audience: 'mediaflow-api', ttlSeconds: 60 };
const claims = { userId: randomUUID(), organizationId: randomUUID(), sessionId: randomUUID() };

describe('API keys', () => {
  test('are mf_<30 base62>_<6 base62 checksum>, distinct, and hashed with SHA-256', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).toMatch(API_KEY_PATTERN);
    expect(a.key).not.toBe(b.key);
    expect(a.hash).toBe(sha256Hex(a.key));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(checkApiKeyFormat(a.key)).toBe('ok');
    // The preview shows the first and last characters only.
    expect(a.preview.startsWith(a.key.slice(0, 7))).toBe(true);
    expect(a.preview.endsWith(a.key.slice(-4))).toBe(true);
    expect(a.preview).not.toContain(a.key.slice(7, 33));
  });

  test('the checksum is a CRC32 of the prefix and random part: any changed character is caught offline', () => {
    const { key } = generateApiKey();
    const random = key.slice(3, 33);
    expect(key.slice(34)).toBe(apiKeyChecksum(random));
    for (const i of [3, 10, 32, 34, 39]) {
      const c = key[i] === 'a' ? 'b' : 'a';
      const tampered = key.slice(0, i) + c + key.slice(i + 1);
      expect(checkApiKeyFormat(tampered)).toBe('bad_checksum');
    }
  });

  test('malformed keys are told apart from bad checksums', () => {
    for (const bad of ['', 'mf_', 'sk_' + 'a'.repeat(30) + '_abcdef', `mf_${'a'.repeat(29)}_abcdef`, `mf_${'a'.repeat(30)}-abcdef`, `mf_${'a'.repeat(30)}_abcdef `]) {
      expect(checkApiKeyFormat(bad)).toBe('malformed');
    }
  });

  test('digest comparison is exact', () => {
    const h = sha256Hex('a');
    expect(digestsEqual(h, sha256Hex('a'))).toBe(true);
    expect(digestsEqual(h, sha256Hex('b'))).toBe(false);
    expect(digestsEqual(h, h.slice(0, 62))).toBe(false);
    expect(digestsEqual('', '')).toBe(false);
  });
});

describe('access tokens', () => {
  const tokens = createAccessTokens(opts);
  const key = new TextEncoder().encode(opts.secret);

  test('round-trip their claims', async () => {
    const { token, expiresIn } = await tokens.sign(claims);
    expect(expiresIn).toBe(60);
    expect(await tokens.verify(token)).toEqual({ ok: true, claims });
  });

  test('alg none, another key, another issuer or audience, and garbage are invalid', async () => {
    const unsecured = new UnsecuredJWT({ org: claims.organizationId, sid: claims.sessionId }).setSubject(claims.userId).setIssuer(opts.issuer).setAudience(opts.audience).setIssuedAt().setExpirationTime('1m').encode();
    const sign = (secret: string, iss = opts.issuer, aud = opts.audience, alg = 'HS256') =>
      new SignJWT({ org: claims.organizationId, sid: claims.sessionId }).setProtectedHeader({ alg }).setSubject(claims.userId).setIssuer(iss).setAudience(aud).setIssuedAt().setExpirationTime('1m').sign(new TextEncoder().encode(secret));
    const cases = [
      unsecured,
      await sign('y'.repeat(40)),
      await sign(opts.secret, 'someone-else'),
      await sign(opts.secret, opts.issuer, 'other-api'),
      await sign(opts.secret.repeat(2), opts.issuer, opts.audience, 'HS512'),
      'not.a.jwt',
    ];
    for (const t of cases) expect(await tokens.verify(t)).toEqual({ ok: false, reason: 'invalid' });
    // Sanity: the same construction with the right key passes, so the cases above fail for their one difference.
    expect((await tokens.verify(await sign(opts.secret))).ok).toBe(true);
  });

  test('claims that are not UUIDs are invalid, so they never reach a uuid column', async () => {
    const sign = (c: Record<string, unknown>, sub: string) =>
      new SignJWT(c).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer(opts.issuer).setAudience(opts.audience).setIssuedAt().setExpirationTime('1m').sign(key);
    const good = { org: claims.organizationId, sid: claims.sessionId };
    expect((await tokens.verify(await sign(good, claims.userId))).ok).toBe(true);
    for (const t of [
      await sign(good, 'u1'),
      await sign({ ...good, org: "x' OR 1=1" }, claims.userId),
      await sign({ ...good, sid: 12 }, claims.userId),
      await sign({ ...good, org: `${claims.organizationId}\u0000` }, claims.userId),
    ]) {
      expect(await tokens.verify(t)).toEqual({ ok: false, reason: 'invalid' });
    }
  });

  test('an expired token says so', async () => {
    const past = Math.floor(Date.now() / 1000) - 120;
    const expired = await new SignJWT({ org: 'o1', sid: 's1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setIssuer(opts.issuer)
      .setAudience(opts.audience)
      .setIssuedAt(past - 60)
      .setExpirationTime(past)
      .sign(key);
    expect(await tokens.verify(expired)).toEqual({ ok: false, reason: 'expired' });
  });
});
