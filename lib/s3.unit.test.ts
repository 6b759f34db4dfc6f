import { createHmac } from 'node:crypto';
import { NoSuchKey, NoSuchUpload, NotFound, S3ServiceException } from '@aws-sdk/client-s3';
import type { Config } from './config.js';
import { copySource, isNotFound, presignPostPolicy } from './s3.js';

const meta = { $metadata: {} };

test('a missing object or upload is not found', () => {
  expect(isNotFound(new NoSuchKey({ message: 'gone', ...meta }))).toBe(true);
  expect(isNotFound(new NotFound({ message: 'gone', ...meta }))).toBe(true);
  expect(isNotFound(new NoSuchUpload({ message: 'gone', ...meta }))).toBe(true);
});

test('other failures are not "not found"', () => {
  expect(isNotFound(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'no', ...meta }))).toBe(false);
  expect(isNotFound(new S3ServiceException({ name: 'NoSuchBucket', $fault: 'client', message: 'no', ...meta }))).toBe(false);
  expect(isNotFound(new Error('connect ECONNREFUSED'))).toBe(false);
  expect(isNotFound(undefined)).toBe(false);
  expect(isNotFound('NoSuchKey')).toBe(false);
});

test('a copy source names the bucket and the URL-encoded key, its slashes kept', () => {
  expect(copySource('media', 'orgs/1/media/2/original')).toBe('media/orgs/1/media/2/original');
  expect(copySource('media', 'a b/c+d?')).toBe('media/a%20b/c%2Bd%3F');
});

test('a POST policy fixes bucket, key and size, and is signed with the SigV4 key of its day and region', () => {
  const s3 = { bucket: 'media', region: 'eu-west-3', accessKey: 'AKID', secretKey: 'SECRET' } as Config['s3'];
  const now = new Date('2026-01-02T03:04:05.678Z');
  const expires = new Date('2026-01-02T03:19:05.000Z');
  const { url, fields } = presignPostPolicy(s3, new URL('https://uploads.example.com/'), { key: 'incoming/o/u', minBytes: 10, maxBytes: 10, expires, now });

  expect(url).toBe('https://uploads.example.com/media'); // path-style
  expect(fields).toMatchObject({
    bucket: 'media',
    key: 'incoming/o/u',
    'x-amz-date': '20260102T030405Z',
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': 'AKID/20260102/eu-west-3/s3/aws4_request',
  });
  const policy = JSON.parse(Buffer.from(fields.policy!, 'base64').toString('utf8')) as { expiration: string; conditions: unknown[] };
  expect(policy.expiration).toBe(expires.toISOString());
  expect(policy.conditions).toEqual([
    ['eq', '$bucket', 'media'],
    ['eq', '$key', 'incoming/o/u'],
    ['content-length-range', 10, 10],
    ['eq', '$x-amz-date', '20260102T030405Z'],
    ['eq', '$x-amz-algorithm', 'AWS4-HMAC-SHA256'],
    ['eq', '$x-amz-credential', 'AKID/20260102/eu-west-3/s3/aws4_request'],
  ]);

  let key: Buffer | string = 'AWS4SECRET';
  for (const part of ['20260102', 'eu-west-3', 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  expect(fields['x-amz-signature']).toBe(createHmac('sha256', key).update(fields.policy!).digest('hex'));
});

test('a POST policy URL keeps a path prefix of the endpoint', () => {
  const s3 = { bucket: 'media', region: 'us-east-1', accessKey: 'a', secretKey: 'b' } as Config['s3'];
  const { url } = presignPostPolicy(s3, new URL('http://127.0.0.1:9000/s3'), { key: 'k', minBytes: 1, maxBytes: 1, expires: new Date() });
  expect(url).toBe('http://127.0.0.1:9000/s3/media');
});
