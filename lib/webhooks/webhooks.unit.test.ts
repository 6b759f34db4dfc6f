import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../config.js';
import { createAddressPolicy } from '../net/address-policy.js';
import { createSecretBox } from './secret-box.js';
import { generateSecret, sign, signedHeaders } from './signing.js';
import { refuseWebhookUrl } from './url.js';

describe('signing (Standard Webhooks)', () => {
  test('a generated secret is whsec_ + base64 of 32 random bytes', () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(generateSecret()).not.toBe(a);
  });

  test('signatures equal the reference library and verify with it', () => {
    const secret = generateSecret();
    const at = new Date('2026-01-15T10:30:00Z');
    const body = JSON.stringify({ event: 'job.completed', data: { job_id: 'x' } });
    expect(sign(secret, 'msg_1', at.getTime() / 1000, body)).toBe(new Webhook(secret).sign('msg_1', at, body));
    const now = Math.floor(Date.now() / 1000);
    expect(new Webhook(secret).verify(body, signedHeaders([secret], 'msg_2', now, body))).toEqual(JSON.parse(body));
  });

  test('during a rotation both secrets verify, and a tampered body verifies with neither', () => {
    const [next, previous] = [generateSecret(), generateSecret()];
    const now = Math.floor(Date.now() / 1000);
    const headers = signedHeaders([next, previous], 'msg_3', now, '{"a":1}');
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(next).verify('{"a":1}', headers)).toEqual({ a: 1 });
    expect(new Webhook(previous).verify('{"a":1}', headers)).toEqual({ a: 1 });
    expect(() => new Webhook(next).verify('{"a":2}', headers)).toThrow();
    expect(() => new Webhook(generateSecret()).verify('{"a":1}', headers)).toThrow();
  });
});

describe('secret box', () => {
  const box = createSecretBox('k'.repeat(32));
  test('round-trips, never shows the plaintext, and refuses tampering or another key', () => {
    const secret = generateSecret();
    const sealed = box.seal(secret);
    expect(sealed).not.toContain(secret.slice(6, 20));
    expect(box.seal(secret)).not.toBe(sealed); // a fresh IV each time
    expect(box.open(sealed)).toBe(secret);
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3]!, 'base64url');
    flipped[0]! ^= 1;
    expect(() => box.open([...parts.slice(0, 3), flipped.toString('base64url')].join('.'))).toThrow();
    expect(() => createSecretBox('j'.repeat(32)).open(sealed)).toThrow();
  });
  test('refuses a short key', () => {
    expect(() => createSecretBox('short')).toThrow(/WEBHOOK_SECRET_KEY/);
  });
});

describe('webhook URLs at registration', () => {
  const strict = createAddressPolicy([]);
  test.each([
    ['ftp://example.com/hook', /http or https/],
    ['not a url', /absolute URL/],
    ['https://user:pw@example.com/hook', /credentials/],
    ['http://169.254.169.254/latest/meta-data/', /refused/],
    ['http://10.1.2.3/hook', /refused/],
    ['http://[::ffff:127.0.0.1]:8080/hook', /refused/],
    ['http://[::1]/hook', /refused/],
    ['http://127.0.0.1:3000/hook', /refused/],
  ])('%s is refused', (url, why) => {
    expect(refuseWebhookUrl(url, strict)).toMatch(why);
  });
  test('public addresses and names pass (names are checked at delivery)', () => {
    expect(refuseWebhookUrl('https://hooks.example.com/mediaflow', strict)).toBeNull();
    expect(refuseWebhookUrl('http://localhost:8080/hook', strict)).toBeNull();
    expect(refuseWebhookUrl('https://93.184.215.14/hook', strict)).toBeNull();
  });
  test('the allow-list lets loopback through', () => {
    expect(refuseWebhookUrl('http://127.0.0.1:3000/hook', createAddressPolicy(['127.0.0.0/8', '::1/128']))).toBeNull();
  });
});

describe('webhook configuration', () => {
  test('defaults: nothing private allowed, 30 s attempts, about three days of retries', () => {
    const c = loadConfig({}).webhooks;
    expect(c.allowedCidrs).toEqual([]);
    expect(c.timeoutMs).toBe(30_000);
    expect(c.retry).toEqual({ initialIntervalMs: 30_000, maximumIntervalMs: 3_600_000, giveUpAfterMs: 72 * 3_600_000 });
    expect(Buffer.byteLength(c.secretKey)).toBeGreaterThanOrEqual(32);
  });
  test('production has no default key; bad values are reported', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).webhooks.secretKey).toBe('');
    expect(loadConfig({ WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8, ::1/128' }).webhooks.allowedCidrs).toEqual(['127.0.0.0/8', '::1/128']);
    expect(() => loadConfig({ WEBHOOK_ALLOWED_CIDRS: 'localhost' })).toThrow(/WEBHOOK_ALLOWED_CIDRS/);
    expect(() => loadConfig({ WEBHOOK_ALLOWED_CIDRS: '10.0.0.0/33' })).toThrow(/WEBHOOK_ALLOWED_CIDRS/);
    expect(() => loadConfig({ WEBHOOK_SECRET_KEY: 'short' })).toThrow(/WEBHOOK_SECRET_KEY/);
  });
});
