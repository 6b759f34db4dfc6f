import { NoSuchKey, NoSuchUpload, NotFound, S3ServiceException } from '@aws-sdk/client-s3';
import { S3Error } from 'minio';
import { isNotFound } from './s3.js';

const meta = { $metadata: {} };
const minioError = (code: string) => Object.assign(new S3Error(`${code} from minio`), { code });

test('a missing object or upload, as either client reports it, is not found', () => {
  expect(isNotFound(new NoSuchKey({ message: 'gone', ...meta }))).toBe(true);
  expect(isNotFound(new NotFound({ message: 'gone', ...meta }))).toBe(true);
  expect(isNotFound(new NoSuchUpload({ message: 'gone', ...meta }))).toBe(true);
  expect(isNotFound(minioError('NoSuchKey'))).toBe(true);
  expect(isNotFound(minioError('NotFound'))).toBe(true);
});

test('other failures are not "not found"', () => {
  expect(isNotFound(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'no', ...meta }))).toBe(false);
  expect(isNotFound(minioError('NoSuchBucket'))).toBe(false);
  expect(isNotFound(new Error('connect ECONNREFUSED'))).toBe(false);
  expect(isNotFound(undefined)).toBe(false);
  expect(isNotFound('NoSuchKey')).toBe(false);
});
