// Cancelling the runAction activity while ffmpeg encodes: Temporal's cancellation reaches ffmpeg
// through ctx.signal, and nothing is left behind (process, work directory, result object).
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createOrm } from '#entities/index.js';
import { createAiRegistry } from '#lib/ai/registry.js';
import { loadConfig } from '#lib/config.js';
import { createLogger } from '#lib/logger.js';
import { createMetrics } from '#lib/metrics.js';
import { createStorage, keys, type ObjectStorage } from '#lib/storage.js';
import { childProcesses, makeAudio, noise } from '../../../tests/support/audio.js';
import { systemClock } from '#activities/deps.js';
import { createRunAction } from '#activities/run-action.js';
import { createJobStore } from '../../job-store.js';
import { createActionRegistry } from '../registry.js';
import convert from './format-convert/format-convert.js';
import { testFfmpeg } from '../../../tests/support/ffmpeg.js';

let storage: ObjectStorage;
let orm: MikroORM;
let dir: string;
let tmpDir: string;
beforeAll(async () => {
  const config = loadConfig();
  storage = createStorage(config.s3);
  await storage.ensureBucket();
  orm = await createOrm({ url: config.database.url, poolMax: 2 });
  dir = await mkdtemp(join(tmpdir(), 'mf-cancel-'));
  tmpDir = await mkdtemp(join(tmpdir(), 'mf-cancel-work-'));
});
afterAll(async () => {
  await orm?.close();
  await rm(dir, { recursive: true, force: true });
  await rm(tmpDir, { recursive: true, force: true });
});

test('cancelling runAction mid-conversion kills ffmpeg and uploads nothing', async () => {
  const organizationId = randomUUID();
  const jobId = randomUUID();
  const inputKey = keys.original(organizationId, randomUUID());
  const wav = await makeAudio(join(dir, 'ten-minutes.wav'), [noise(600)], { rate: 22050 });
  await storage.put(inputKey, await readFile(wav), 'audio/wav');

  const runAction = createRunAction({
    orm,
    jobs: createJobStore({ orm, clock: systemClock, retentionDays: 30 }),
    storage,
    actions: createActionRegistry([convert as never]),
    limits: { image: { maxResolution: 8192 }, audio: { maxDurationSeconds: 3600 } },
    ai: createAiRegistry([]),
    ffmpeg: testFfmpeg,
    logger: createLogger('silent', 'test'),
    clock: systemClock,
    tmpDir,
    retentionDays: 30,
    metrics: createMetrics('worker'),
  });
  const env = new MockActivityEnvironment({ attempt: 1 });
  let cancelling = false;
  let cancelledAt = 0;
  let ffmpegWhenCancelled: number[] = [];
  env.on('heartbeat', (fraction: number) => {
    // Past 0.1 the input is downloaded and ffmpeg is encoding.
    if (fraction <= 0.1 || cancelling) return;
    cancelling = true;
    void childProcesses('ffmpeg').then((pids) => {
      ffmpegWhenCancelled = pids;
      cancelledAt = Date.now();
      env.cancel();
    });
  });

  await expect(
    env.run(runAction, {
      jobId,
      organizationId,
      actionId: 'aud_format_convert',
      inputKey,
      inputMimeType: 'audio/wav',
      parameters: { format: 'mp3', bitrate: '128k', sample_rate: 0, channels: 0 },
    }),
  ).rejects.toBeInstanceOf(CancelledFailure);

  expect(cancelledAt).toBeGreaterThan(0);
  expect(Date.now() - cancelledAt).toBeLessThan(3000);
  expect(ffmpegWhenCancelled).toHaveLength(1);
  expect(await childProcesses('ffmpeg')).toEqual([]);
  expect(await readdir(tmpDir)).toEqual([]);
  expect(await storage.stat(keys.result(organizationId, jobId, 'mp3'))).toBeNull();
  await storage.remove(inputKey);
});
