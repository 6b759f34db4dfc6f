// The memory benchmark (bench/upload-memory.ts) at 64 MiB, so its code keeps working: uploads
// through multipart and tus must not grow the process by anything near the file size.
import { tmpdir } from 'node:os';
import { formatTable, runUploadBenchmark } from '../bench/upload-memory.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { MAX_AUDIO_FILE_SIZE_MB: '200', ORG_STORAGE_GB: '0' } });
});
afterAll(async () => {
  await h?.stop();
});

test('uploads of a 64 MiB file raise RSS by less than 100 MB, one at a time and three at once', async () => {
  const rows = await runUploadBenchmark(h, { sizeBytes: 64 * 1024 * 1024, dir: tmpdir(), concurrent: 3 });
  expect(rows.map((r) => r.case)).toEqual(['direct putObject', 'multipart upload', 'tus upload', 'multipart x3 concurrent', 'tus x3 concurrent']);
  for (const r of rows) expect({ case: r.case, bounded: r.rssGrowthMib < 100 }).toEqual({ case: r.case, bounded: true });
  expect(formatTable(rows)).toContain('| tus upload |');
  // Five uploads of 64 or 3 × 16 MiB: 25–33 s, alone or in the full run's recycled Jest worker
  // (252 s late in the old single in-band process).
}, 300_000);
