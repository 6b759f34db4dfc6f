import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig } from '#lib/config.js';
import { loadOrCreateSecrets } from '#lib/local-secrets.js';

test('defaults describe a local platform, listening on loopback only', () => {
  const c = loadConfig({});
  expect(c.http.port).toBe(3000);
  expect(c.http.host).toBe('127.0.0.1');
  expect(loadConfig({ HOST: '0.0.0.0' }).http.host).toBe('0.0.0.0');
  expect(c.temporal).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'mediaflow' });
  expect(c.s3.endpoint.href).toBe('http://127.0.0.1:9000/');
  expect(c.media.image.maxFileSizeBytes).toBe(50 * 1024 * 1024);
});

test('every bad variable is reported at once', () => {
  let error: unknown;
  try {
    loadConfig({ PORT: 'eighty', S3_ENDPOINT: 'not a url', NODE_ENV: 'staging', DATABASE_URL: 'mysql://x', S3_PART_SIZE_MB: '1' });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const problems = (error as ConfigError).problems.join('\n');
  for (const name of ['PORT', 'S3_ENDPOINT', 'NODE_ENV', 'DATABASE_URL', 'S3_PART_SIZE_MB']) expect(problems).toContain(name);
  expect((error as ConfigError).problems).toHaveLength(5);
});

test('PROVIDER_KEYS_MASTER_KEYS: a keyring; a key of the process when unset, none in production; bad entries reported without the value', () => {
  const key = Buffer.alloc(32, 7).toString('base64');
  expect(loadConfig({ PROVIDER_KEYS_MASTER_KEYS: `p2:${key},p1:${Buffer.alloc(32, 1).toString('base64')}` }).ai.providerKeysMasterKeys.map((k) => k.id)).toEqual(['p2', 'p1']);
  const dev = loadConfig({}).ai.providerKeysMasterKeys;
  expect(dev.map((k) => k.id)).toEqual(['ephemeral']);
  // Its own key: not the storage or codec key.
  expect(dev[0]!.key.equals(loadConfig({}).s3.masterKeys[0]!.key)).toBe(false);
  expect(loadConfig({ NODE_ENV: 'production' }).ai.providerKeysMasterKeys).toEqual([]);
  const secret = 'c2hvcnQ=';
  let problems: string[] = [];
  try {
    loadConfig({ PROVIDER_KEYS_MASTER_KEYS: `p1:${secret}` });
  } catch (err) {
    problems = (err as ConfigError).problems;
  }
  expect(problems).toHaveLength(1);
  expect(problems[0]).toContain('PROVIDER_KEYS_MASTER_KEYS');
  expect(problems[0]).not.toContain(secret);
});

describe('secrets nobody set', () => {
  const NAMES = ['JWT_SECRET', 'DOWNLOAD_LINK_SECRETS', 'WEBHOOK_SECRET_KEY', 'STORAGE_MASTER_KEYS', 'TEMPORAL_CODEC_KEYS', 'PROVIDER_KEYS_MASTER_KEYS'];
  // What a process that sets none of them gets, printed by a fresh Node process.
  const secretsOfAProcess = (): Record<string, string> => {
    const script = `
      const { loadConfig } = await import(${JSON.stringify(pathToFileURL(path.resolve('lib/config.ts')).href)});
      const c = loadConfig({ NODE_ENV: 'development' });
      const k = (ring) => ring.map((m) => m.key.toString('base64')).join(',');
      console.log(JSON.stringify({
        JWT_SECRET: c.auth.jwtSecret, DOWNLOAD_LINK_SECRETS: c.intake.downloadLinkSecrets.join(','), WEBHOOK_SECRET_KEY: c.webhooks.secretKey,
        STORAGE_MASTER_KEYS: k(c.s3.masterKeys), TEMPORAL_CODEC_KEYS: k(c.temporal.codecKeys), PROVIDER_KEYS_MASTER_KEYS: k(c.ai.providerKeysMasterKeys),
        S3: c.s3.accessKey + c.s3.secretKey }));`;
    return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' })) as Record<string, string>;
  };

  test('are random per process outside production: two processes never share one, so none is public', () => {
    const a = secretsOfAProcess();
    const b = secretsOfAProcess();
    for (const name of NAMES) {
      expect([name, Buffer.from(a[name]!, name.endsWith('_KEYS') ? 'base64' : 'utf8').length >= 32]).toEqual([name, true]);
      expect([name, a[name] === b[name]]).toEqual([name, false]);
    }
    // Each secret is its own.
    expect(new Set(NAMES.map((n) => a[n])).size).toBe(NAMES.length);
    // No object-store credentials are assumed either (the MinIO defaults were public).
    expect(a.S3).toBe('');
    // The same process agrees with itself: the API and worker of one process share their keys.
    expect(loadConfig({}).auth.jwtSecret).toBe(loadConfig({}).auth.jwtSecret);
    expect(loadConfig({}).s3.masterKeys[0]!.key.equals(loadConfig({}).s3.masterKeys[0]!.key)).toBe(true);
  });

  test('npm start keeps its generated secrets in its data directory, readable by its owner only, and reuses them', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mediaflow-secrets-'));
    try {
      const file = path.join(dir, 'data', 'secrets.json');
      const first = loadOrCreateSecrets(file);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      for (const name of [...NAMES, 'S3_ACCESS_KEY', 'S3_SECRET_KEY']) expect([name, (first[name] ?? '').length >= 16]).toEqual([name, true]);
      // Keyrings parse as keyrings.
      const c = loadConfig({ ...first, NODE_ENV: 'production' });
      expect(c.s3.masterKeys).toHaveLength(1);
      expect(c.auth.jwtSecret).toBe(first.JWT_SECRET);
      // A second start reuses them, and tightens a file someone loosened.
      chmodSync(file, 0o644);
      expect(loadOrCreateSecrets(file)).toEqual(first);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // Another data directory gets its own.
      expect(loadOrCreateSecrets(path.join(dir, 'other', 'secrets.json')).JWT_SECRET).not.toBe(first.JWT_SECRET);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('CORS_ALLOWED_ORIGINS: none by default; exact origins, anything else reported', () => {
  expect(loadConfig({}).http.corsAllowedOrigins).toEqual([]);
  expect(loadConfig({ CORS_ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:5173/' }).http.corsAllowedOrigins).toEqual([
    'https://app.example.com',
    'http://localhost:5173',
  ]);
  let problems: string[] = [];
  try {
    loadConfig({ CORS_ALLOWED_ORIGINS: '*,https://example.com/path,ftp://x.example' });
  } catch (err) {
    problems = (err as ConfigError).problems;
  }
  expect(problems).toHaveLength(3);
  expect(problems.every((p) => p.startsWith('CORS_ALLOWED_ORIGINS'))).toBe(true);
});

test('INFRA_RETRY_* set how outages are retried, and are checked', () => {
  expect(loadConfig({}).infraRetry).toEqual({ initialIntervalMs: 1000, maximumIntervalMs: 30_000, giveUpAfterMs: 15 * 60_000 });
  expect(loadConfig({ INFRA_RETRY_INITIAL_MS: '200', INFRA_RETRY_MAX_INTERVAL_MS: '5000', INFRA_RETRY_FOR: '2m' }).infraRetry).toEqual({
    initialIntervalMs: 200,
    maximumIntervalMs: 5000,
    giveUpAfterMs: 120_000,
  });
  expect(() => loadConfig({ INFRA_RETRY_FOR: 'soon' })).toThrow(/INFRA_RETRY_FOR/);
  expect(() => loadConfig({ INFRA_RETRY_INITIAL_MS: '9000', INFRA_RETRY_MAX_INTERVAL_MS: '1000' })).toThrow(/INFRA_RETRY_MAX_INTERVAL_MS/);
});
