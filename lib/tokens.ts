import { hash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_RANDOM_LENGTH = 30; // 30 base62 characters: ~178 bits
const KEY_CHECKSUM_LENGTH = 6;
/** `mf_<random>_<checksum>`: the fixed prefix and CRC32 checksum let secret scanners recognise a key offline. */
export const API_KEY_PATTERN = new RegExp(`^mf_([0-9A-Za-z]{${KEY_RANDOM_LENGTH}})_([0-9A-Za-z]{${KEY_CHECKSUM_LENGTH}})$`);

/** Uniform random base62 (rejection sampling: no modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

function base62(n: number, width: number): string {
  let out = '';
  for (let v = n; v > 0; v = Math.floor(v / 62)) out = BASE62[v % 62] + out;
  return out.padStart(width, '0');
}

export const apiKeyChecksum = (random: string): string => base62(crc32(`mf_${random}`), KEY_CHECKSUM_LENGTH);

// One-shot: every request with an API key hashes it (the credential cache is keyed by the digest).
export const sha256Hex = (value: string): string => hash('sha256', value, 'hex');

/** Constant-time comparison of two hex digests. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

export interface NewApiKey {
  key: string;
  hash: string;
  /** What may be shown again later: the prefix and the last characters. */
  preview: string;
}

export function generateApiKey(): NewApiKey {
  const random = randomBase62(KEY_RANDOM_LENGTH);
  const key = `mf_${random}_${apiKeyChecksum(random)}`;
  return { key, hash: sha256Hex(key), preview: `mf_${random.slice(0, 4)}…${key.slice(-4)}` };
}

export type ApiKeyCheck = 'ok' | 'malformed' | 'bad_checksum';

/** Format and checksum only: a key that fails here never costs a database lookup. */
export function checkApiKeyFormat(key: string): ApiKeyCheck {
  const m = API_KEY_PATTERN.exec(key);
  if (!m) return 'malformed';
  return apiKeyChecksum(m[1]!) === m[2] ? 'ok' : 'bad_checksum';
}

/** An opaque bearer secret (refresh tokens, invitations): prefix + 256 random bits. */
export function generateOpaqueToken(prefix: string): { token: string; hash: string } {
  const token = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { token, hash: sha256Hex(token) };
}

export interface AccessClaims {
  userId: string;
  organizationId: string;
  /** The session (refresh-token family) the token belongs to: revoking it ends the access token too. */
  sessionId: string;
}

export type VerifyResult = { ok: true; claims: AccessClaims } | { ok: false; reason: 'expired' | 'invalid' };

export interface AccessTokens {
  sign(claims: AccessClaims): Promise<{ token: string; expiresIn: number }>;
  verify(token: string): Promise<VerifyResult>;
}

const ALG = 'HS256';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);

/** Short-lived JWTs: HS256 only, issuer and audience pinned on verify, so `alg: none` or a foreign issuer never pass. */
export function createAccessTokens(opts: { secret: string; issuer: string; audience: string; ttlSeconds: number }): AccessTokens {
  if (Buffer.byteLength(opts.secret) < 32) throw new Error('JWT_SECRET is required for the API (at least 32 bytes)');
  const key = new TextEncoder().encode(opts.secret);
  return {
    async sign(claims) {
      const token = await new SignJWT({ org: claims.organizationId, sid: claims.sessionId })
        .setProtectedHeader({ alg: ALG, typ: 'JWT' })
        .setSubject(claims.userId)
        .setIssuer(opts.issuer)
        .setAudience(opts.audience)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime(`${opts.ttlSeconds}s`)
        .sign(key);
      return { token, expiresIn: opts.ttlSeconds };
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [ALG],
          issuer: opts.issuer,
          audience: opts.audience,
          requiredClaims: ['sub', 'exp', 'iat'],
        });
        const { sub, org, sid } = payload as { sub?: unknown; org?: unknown; sid?: unknown };
        // Every claim names a row by its UUID: anything else is a forgery and must not reach the database.
        if (![sub, org, sid].every(isUuid)) return { ok: false, reason: 'invalid' };
        return { ok: true, claims: { userId: sub as string, organizationId: org as string, sessionId: sid as string } };
      } catch (err) {
        return { ok: false, reason: err instanceof joseErrors.JWTExpired ? 'expired' : 'invalid' };
      }
    },
  };
}
