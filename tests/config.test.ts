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
