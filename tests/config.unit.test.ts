import { ConfigError, loadConfig } from '../lib/config.js';

test('defaults describe a local platform', () => {
  const c = loadConfig({});
  expect(c.http.port).toBe(3000);
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

test('PROVIDER_KEYS_MASTER_KEYS: a keyring; a development key when unset, none in production; bad entries reported without the value', () => {
  const key = Buffer.alloc(32, 7).toString('base64');
  expect(loadConfig({ PROVIDER_KEYS_MASTER_KEYS: `p2:${key},p1:${Buffer.alloc(32, 1).toString('base64')}` }).ai.providerKeysMasterKeys.map((k) => k.id)).toEqual(['p2', 'p1']);
  const dev = loadConfig({}).ai.providerKeysMasterKeys;
  expect(dev.map((k) => k.id)).toEqual(['dev']);
  // Its own key: not the storage or codec development key.
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
