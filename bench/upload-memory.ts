// Flat-memory benchmark: the API runs in this process; a file is uploaded through the plain
// multipart endpoint and through tus (tus-js-client), while RSS is sampled every 100 ms, and both
// are compared with a direct putObject of the same file from the same process.
import { spawn } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import * as tus from 'tus-js-client';
import { createS3Client } from '#lib/s3.js';
import type { Harness } from '../tests/support/harness.js';
import { wavHeader } from '../tests/support/noise-wav.js';

const MIB = 1024 * 1024;

/** Writes a WAV of `size` bytes of random samples (AES-CTR keystream: random-looking, GB/s fast). */
export async function writeNoiseWav(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  const cipher = createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16));
  const zeros = Buffer.alloc(4 * MIB);
  out.write(wavHeader(size - 44));
  for (let left = size - 44; left > 0; left -= zeros.length) {
    const block = cipher.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

export interface BenchRow {
  case: string;
  bytes: number;
  seconds: number;
  mibPerSecond: number;
  /** Peak RSS during the case minus RSS just before it. */
  rssGrowthMib: number;
}

/** Runs `fn` while sampling RSS every 100 ms. */
async function measure(name: string, bytes: number, fn: () => Promise<unknown>): Promise<BenchRow> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100);
  const started = performance.now();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  const seconds = (performance.now() - started) / 1000;
  return { case: name, bytes, seconds: round(seconds), mibPerSecond: round(bytes / MIB / seconds), rssGrowthMib: round((peak - before) / MIB) };
}
const round = (n: number) => Math.round(n * 10) / 10;

/**
 * A multipart/form-data upload by curl, in its own process: the RSS measured is then the API's
 * alone. (In-process clients would count too: Node's fetch even buffers a file-backed body whole.)
 */
async function multipartUpload(h: Harness, path: string): Promise<string> {
  const curl = spawn('curl', ['-sS', '-H', `x-api-key: ${h.tenant.apiKey}`, '-F', `file=@${path};type=audio/wav;filename=bench.wav`, `${h.url}/api/v1/media/upload`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  curl.stdout.on('data', (c) => (out += c));
  curl.stderr.on('data', (c) => (err += c));
  const [code] = (await once(curl, 'close')) as [number];
  const body = (out ? JSON.parse(out) : {}) as { id?: string };
  if (code !== 0 || !body.id) throw new Error(`multipart upload failed (curl ${code}): ${err}${out}`);
  return body.id;
}

function tusUpload(h: Harness, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // A ReadStream with a path is read in slices from the file: the client buffers nothing.
    const upload = new tus.Upload(createReadStream(path), {
      endpoint: `${h.url}/api/v1/uploads`,
      headers: { 'x-api-key': h.tenant.apiKey },
      metadata: { filename: 'bench.wav' },
      retryDelays: [],
      onError: reject,
      onSuccess: ({ lastResponse }) => resolve(lastResponse.getHeader('Mediaflow-Media-Id') ?? ''),
    });
    upload.start();
  });
}

/**
 * Uploads one `sizeBytes` file each way (and `concurrent` smaller ones at once through each
 * endpoint), returning a row per case. The harness must accept files of that size.
 */
export async function runUploadBenchmark(h: Harness, opts: { sizeBytes: number; dir: string; concurrent?: number }): Promise<BenchRow[]> {
  const file = join(opts.dir, `mediaflow-bench-${process.pid}.wav`);
  const concurrent = opts.concurrent ?? 3;
  const small = join(opts.dir, `mediaflow-bench-${process.pid}-small.wav`);
  try {
    await writeNoiseWav(file, opts.sizeBytes);
    const smallSize = Math.floor(opts.sizeBytes / 4);
    if (concurrent > 1) await writeNoiseWav(small, smallSize);
    const s3 = createS3Client(h.config.s3);
    const Bucket = h.config.s3.bucket;
    const Key = `bench/${process.pid}`;
    // One PutObject streaming the file (its length known, so the SDK buffers nothing; S3 takes up to 5 GiB so).
    const put = () => s3.send(new PutObjectCommand({ Bucket, Key, Body: createReadStream(file), ContentLength: opts.sizeBytes, ContentType: 'audio/wav' }));
    const rows = [
      await measure('direct putObject', opts.sizeBytes, put),
      await measure('multipart upload', opts.sizeBytes, () => multipartUpload(h, file)),
      await measure('tus upload', opts.sizeBytes, () => tusUpload(h, file)),
    ];
    await s3.send(new DeleteObjectCommand({ Bucket, Key }));
    s3.destroy();
    if (concurrent > 1) {
      const all = (fn: () => Promise<string>) => Promise.all(Array.from({ length: concurrent }, fn));
      rows.push(await measure(`multipart x${concurrent} concurrent`, smallSize * concurrent, () => all(() => multipartUpload(h, small))));
      rows.push(await measure(`tus x${concurrent} concurrent`, smallSize * concurrent, () => all(() => tusUpload(h, small))));
    }
    return rows;
  } finally {
    await rm(file, { force: true });
    await rm(small, { force: true });
  }
}

/** The rows as a table, with each case's growth and throughput relative to the direct putObject. */
export function formatTable(rows: BenchRow[]): string {
  const base = rows.find((r) => r.case === 'direct putObject')!;
  const lines = [
    '| case | size (MiB) | time (s) | MiB/s | RSS growth (MiB) | growth vs putObject | throughput vs putObject |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.case} | ${round(r.bytes / MIB)} | ${r.seconds} | ${r.mibPerSecond} | ${r.rssGrowthMib} | ${round(r.rssGrowthMib / Math.max(base.rssGrowthMib, 1))}x | ${round(r.mibPerSecond / base.mibPerSecond)}x |`,
    ),
  ];
  return lines.join('\n');
}
