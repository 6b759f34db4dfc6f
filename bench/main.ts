// `npm run bench:upload [-- <size in MiB>]`: starts the services the tests use (Temporal, MinIO, a
// fresh database), the API in this process, and runs bench/upload-memory.ts with a 2 GiB file.
import { tmpdir } from 'node:os';
import path from 'node:path';
import globalSetup from '../tests/support/global-setup.js';
import globalTeardown from '../tests/support/global-teardown.js';
import { startHarness } from '../tests/support/harness.js';
import { formatTable, runUploadBenchmark } from './upload-memory.js';

const sizeMib = Number(process.argv[2] ?? 2048);
process.env.TEST_DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/mediaflow_bench';
process.env.LOG_LEVEL ??= 'error';
await globalSetup(undefined, { rootDir: path.resolve(import.meta.dirname, '..') });
const limitMb = String(sizeMib + 16);
// The noise WAV plays for hours at this size: the duration limit must not refuse it either.
const h = await startHarness({
  env: { MAX_AUDIO_FILE_SIZE_MB: limitMb, UPLOAD_MAX_SIZE_MB: limitMb, MAX_AUDIO_DURATION_MINUTES: '100000', ORG_STORAGE_GB: '0' },
});
try {
  const rows = await runUploadBenchmark(h, { sizeBytes: sizeMib * 1024 * 1024, dir: process.env.BENCH_DIR ?? tmpdir() });
  console.log(formatTable(rows));
} finally {
  await h.stop();
  await globalTeardown();
}
