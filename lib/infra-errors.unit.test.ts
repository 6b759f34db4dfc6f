// Which failures are the infrastructure's (retried apart from an action's attempts) and which are not.
import { ApplicationFailure } from '@temporalio/common';
import { describeInfraError, infraBackoffMs, isInfraError, withInfraRetry } from './infra-errors.js';

const withCode = (message: string, code: string | number, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { code, ...extra });

describe('isInfraError', () => {
  test.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:9000', 'ECONNREFUSED')],
    ['a reset', withCode('read ECONNRESET', 'ECONNRESET')],
    ['a timeout', withCode('connect ETIMEDOUT', 'ETIMEDOUT')],
    ['every address refused (happy eyeballs)', new AggregateError([withCode('connect ECONNREFUSED ::1:9000', 'ECONNREFUSED')], '')],
    ['fetch failed, its cause refused', new TypeError('fetch failed', { cause: withCode('connect ECONNREFUSED', 'ECONNREFUSED') })],
    ['S3 SlowDown', Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } })],
    ['MinIO starting', Object.assign(new Error('Server not initialized, please try again.'), { name: 'XMinioServerNotInitialized', $metadata: { httpStatusCode: 503 } })],
    ['S3 500', Object.assign(new Error('We encountered an internal error'), { name: 'UnknownError', $metadata: { httpStatusCode: 500 } })],
    ['Postgres shutting down', withCode('terminating connection due to administrator command', '57P01')],
    ['Postgres starting up', withCode('the database system is starting up', '57P03')],
    ['a serialization failure', withCode('could not serialize access due to concurrent update', '40001')],
    ['a lost Postgres connection', new Error('Connection terminated unexpectedly')],
    ['a driver connection exception', Object.assign(new Error('connect failed'), { name: 'ConnectionException' })],
    ['Temporal unavailable (gRPC 14)', withCode('14 UNAVAILABLE: Connection dropped', 14)],
  ])('%s is', (_what, err) => {
    expect(isInfraError(err)).toBe(true);
  });

  test.each([
    ['a plain error', new Error('ffmpeg exited with code 1')],
    ['bad input', ApplicationFailure.create({ type: 'INVALID_INPUT', message: 'not an image', nonRetryable: true })],
    ['an S3 404', Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } })],
    ['a Postgres constraint violation', withCode('duplicate key value violates unique constraint', '23505')],
    ['a missing file', withCode("ENOENT: no such file or directory, open '/tmp/x'", 'ENOENT')],
    ['nothing', undefined],
  ])('%s is not', (_what, err) => {
    expect(isInfraError(err)).toBe(false);
  });
});

test('descriptions drop credentials from connection strings', () => {
  expect(describeInfraError(new Error('connect to postgresql://mf:s3cret@db:5432/mf failed'))).not.toContain('s3cret');
});

test('backoff grows to its cap, with jitter in its upper half', () => {
  const policy = { initialIntervalMs: 100, maximumIntervalMs: 1000 };
  expect(infraBackoffMs(policy, 0, () => 0)).toBe(50);
  expect(infraBackoffMs(policy, 0, () => 1)).toBe(100);
  expect(infraBackoffMs(policy, 3, () => 1)).toBe(800);
  expect(infraBackoffMs(policy, 20, () => 1)).toBe(1000);
});

test('withInfraRetry outlasts an outage and gives up on anything else at once', async () => {
  const policy = { initialIntervalMs: 10, maximumIntervalMs: 20, giveUpAfterMs: 5000 };
  let calls = 0;
  const value = await withInfraRetry(policy, async () => {
    if (++calls < 4) throw withCode('connect ECONNREFUSED', 'ECONNREFUSED');
    return 'ok';
  });
  expect({ value, calls }).toEqual({ value: 'ok', calls: 4 });
  let other = 0;
  await expect(withInfraRetry(policy, async () => {
    other++;
    throw new Error('bad');
  })).rejects.toThrow('bad');
  expect(other).toBe(1);
  const short = { ...policy, giveUpAfterMs: 50 };
  await expect(withInfraRetry(short, async () => {
    throw withCode('connect ECONNREFUSED', 'ECONNREFUSED');
  })).rejects.toThrow('ECONNREFUSED');
});
