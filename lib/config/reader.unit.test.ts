import { configVariables, loadConfig } from '../config.js';
import { ConfigError, EnvReader, isCidr, parseDuration, parseSize, type Env } from './reader.js';

/** The problems `read` records on a reader over `env`, and what it returned. */
function reading<T>(env: Env, read: (r: EnvReader) => T): { value: T; problems: string[] } {
  const r = new EnvReader(env);
  const value = read(r);
  return { value, problems: r.problems };
}

const problemsOf = (env: Env): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

describe('the duration grammar', () => {
  test('an integer with a unit of ms, s, m, h or d, or a bare integer in the variable’s own unit', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('30')).toBe(30_000);
    expect(parseDuration('30', 'ms')).toBe(30);
    expect(parseDuration('2', 'h')).toBe(7_200_000);
    expect(parseDuration(' 5m ')).toBe(300_000);
    // What Number() read as an integer stays valid for the variables that took integers.
    expect(parseDuration('1e3', 'ms')).toBe(1000);
    for (const bad of ['', 'soon', '1.5h', '-5', '5 minutes', '5M', '1w', 'm']) expect([bad, parseDuration(bad)]).toEqual([bad, undefined]);
  });

  test('durations come back in the field’s unit, bounded, and whole in it', () => {
    const read = (raw: string | undefined) =>
      reading({ D: raw }, (r) => r.duration('D', '10s', { unit: 's', as: 'ms', min: '1s', max: '1h' }));
    expect(read(undefined).value).toBe(10_000);
    expect(read('').value).toBe(10_000);
    expect(read('30').value).toBe(30_000);
    expect(read('1500ms').value).toBe(1500);
    expect(read('2m')).toEqual({ value: 120_000, problems: [] });
    for (const bad of ['500ms', '2h', 'later']) {
      const { value, problems } = read(bad);
      expect([bad, value]).toEqual([bad, 10_000]);
      expect(problems).toEqual([expect.stringMatching(/^D must be a duration between 1s and 1h, .*\(got ".*"\)$/)]);
    }
    const seconds = reading({ S: '1500ms' }, (r) => r.duration('S', '5s', { unit: 's' }));
    expect(seconds).toEqual({ value: 5, problems: ['S must be a whole number of seconds (got "1500ms")'] });
  });

  test('every duration variable takes the grammar, and its values of before', () => {
    const c = loadConfig({
      JWT_ACCESS_TTL: '900',
      JOB_CANCEL_WAIT: '10',
      JOB_RETRY_WINDOW: '2d',
      WEBHOOK_TIMEOUT_MS: '5000',
      WEBHOOK_RETRY_FOR_MS: '1h',
      UPLOAD_EXPIRY_HOURS: '48',
      UPLOAD_CLEANUP_INTERVAL_SECONDS: '5m',
      INFRA_RETRY_INITIAL_MS: '2s',
      RETENTION_SWEEP_INTERVAL: '30m',
      RATE_LIMIT_UPLOAD: '10/1h',
      RATE_LIMIT_READ: '100/90',
      AI_REQUEST_TIMEOUT_MS: '1m',
    });
    expect(c.auth.accessTtlSeconds).toBe(900);
    expect(c.lifecycle.cancelWaitMs).toBe(10_000);
    expect(c.lifecycle.retryWindowMs).toBe(2 * 86_400_000);
    expect(c.webhooks.timeoutMs).toBe(5000);
    expect(c.webhooks.retry.giveUpAfterMs).toBe(3_600_000);
    expect(c.uploads.expiryMs).toBe(48 * 3_600_000);
    expect(c.uploads.cleanupIntervalMs).toBe(300_000);
    expect(c.infraRetry.initialIntervalMs).toBe(2000);
    expect(c.retention.sweepIntervalSeconds).toBe(1800);
    expect(c.rateLimits.classes.upload).toEqual({ limit: 10, windowSeconds: 3600 });
    expect(c.rateLimits.classes.read).toEqual({ limit: 100, windowSeconds: 90 });
    expect(c.ai.requestTimeoutMs).toBe(60_000);
    expect(problemsOf({ RETENTION_SWEEP_INTERVAL: '30s', JOB_CANCEL_WAIT: 'soon', WEBHOOK_TIMEOUT_MS: '10m', RATE_LIMIT_JOBS: '5/0s' })).toEqual([
      expect.stringContaining('RETENTION_SWEEP_INTERVAL'),
      expect.stringContaining('JOB_CANCEL_WAIT'),
      expect.stringContaining('RATE_LIMIT_JOBS'),
      expect.stringContaining('WEBHOOK_TIMEOUT_MS'),
    ]);
  });
});

describe('field types', () => {
  test('string: unset and empty are the default; a check rejects', () => {
    expect(reading({}, (r) => r.string('S', 'd')).value).toBe('d');
    expect(reading({ S: '' }, (r) => r.string('S', 'd')).value).toBe('d');
    expect(reading({ S: 'x' }, (r) => r.string('S', 'd')).value).toBe('x');
    expect(reading({ S: 'x' }, (r) => r.string('S', 'd', (v) => (v === 'x' ? 'must not be x' : undefined)))).toEqual({ value: 'd', problems: ['S must not be x'] });
  });

  test('int: bounds', () => {
    const read = (raw: string) => reading({ N: raw }, (r) => r.int('N', 7, { min: 1, max: 10 }));
    expect(read('3')).toEqual({ value: 3, problems: [] });
    for (const bad of ['0', '11', '2.5', 'two']) expect(read(bad)).toEqual({ value: 7, problems: [`N must be an integer between 1 and 10 (got "${bad}")`] });
  });

  test('bool and enum: only the listed values', () => {
    expect(reading({ B: 'false' }, (r) => r.bool('B', true))).toEqual({ value: false, problems: [] });
    expect(reading({ B: 'yes' }, (r) => r.bool('B', true))).toEqual({ value: true, problems: ['B must be one of true, false (got "yes")'] });
    expect(reading({ E: 'b' }, (r) => r.enum('E', ['a', 'b'] as const, 'a')).value).toBe('b');
    expect(reading({ E: 'c' }, (r) => r.enum('E', ['a', 'b'] as const, 'a')).problems).toEqual(['E must be one of a, b (got "c")']);
  });

  test('url: parsed; a bad one reported and the default kept', () => {
    expect(reading({ U: 'http://h:1/p' }, (r) => r.url('U', 'http://d/')).value.href).toBe('http://h:1/p');
    const bad = reading({ U: 'not a url' }, (r) => r.url('U', 'http://d/'));
    expect([bad.value.href, bad.problems]).toEqual(['http://d/', ['U must be a URL (got "not a url")']]);
    expect(reading({}, (r) => r.url('U')).value).toBeUndefined();
  });

  test('size: bytes, from a bare number in the variable’s unit or with B, KiB, MiB, GiB; bounded and whole', () => {
    expect(parseSize('8', 'MiB')).toBe(8 * 1024 ** 2);
    expect(parseSize('1GiB', 'MiB')).toBe(1024 ** 3);
    expect(parseSize('256KiB')).toBe(262_144);
    expect(parseSize('10 MB', 'MiB')).toBeUndefined();
    const read = (raw: string) => reading({ Z: raw }, (r) => r.size('Z', '8', { unit: 'MiB', min: '5', max: '512' }));
    expect(read('1GiB').problems).toEqual([expect.stringMatching(/^Z must be a size between 5 and 512/)]);
    expect(read('100MiB').value).toBe(100 * 1024 ** 2);
    expect(read('6000KiB')).toEqual({ value: 8 * 1024 ** 2, problems: ['Z must be a whole number of MiB (got "6000KiB")'] });
    expect(loadConfig({ S3_PART_SIZE_MB: '16', OPENAI_AUDIO_MAX_BYTES: '1MiB' })).toMatchObject({ s3: { partSizeBytes: 16 * 1024 ** 2 }, ai: { openai: { maxAudioBytes: 1024 ** 2 } } });
  });

  test('lists: trimmed, empty entries dropped, each entry checked; the default only when unset', () => {
    expect(reading({ L: ' a, ,b ' }, (r) => r.list('L', ['d'])).value).toEqual(['a', 'b']);
    expect(reading({ L: '' }, (r) => r.list('L', ['d'])).value).toEqual([]);
    expect(reading({}, (r) => r.list('L', ['d'])).value).toEqual(['d']);
    const checked = reading({ L: 'ok,bad' }, (r) => r.list('L', [], (e) => (e === 'ok' ? { value: e.toUpperCase() } : { problem: 'oks' })));
    expect(checked).toEqual({ value: ['OK'], problems: ['L entries are oks (got "bad")'] });
    expect(loadConfig({ TEMPORAL_CODEC_CORS_ORIGINS: '' }).temporal.codecCorsOrigins).toEqual([]);
    expect(loadConfig({}).temporal.codecCorsOrigins).toEqual(['http://localhost:8233']);
    expect(loadConfig({ ACTIONS_ENABLED: 'img_resize, img_crop' }).actions.enabled).toEqual(['img_resize', 'img_crop']);
    expect(loadConfig({ ACTIONS_ENABLED: '' }).actions.enabled).toBeUndefined();
  });

  test('CIDR lists: one type, IPv4 and IPv6, for every CIDR variable', () => {
    for (const ok of ['10.0.0.0/8', '127.0.0.1', '::1/128', 'fd00::/8', '0.0.0.0/0']) expect([ok, isCidr(ok)]).toEqual([ok, true]);
    for (const bad of ['localhost', '10.0.0.0/33', '::1/129', '10.0.0.0/8/1', '10.0.0.0/x', '']) expect([bad, isCidr(bad)]).toEqual([bad, false]);
    const c = loadConfig({ WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8, ::1/128', IMPORT_ALLOWED_CIDRS: '10.0.0.0/8' });
    expect([c.webhooks.allowedCidrs, c.intake.importAllowedCidrs]).toEqual([['127.0.0.0/8', '::1/128'], ['10.0.0.0/8']]);
    expect(problemsOf({ WEBHOOK_ALLOWED_CIDRS: '10.0.0.0/33', IMPORT_ALLOWED_CIDRS: 'localhost' })).toEqual([
      'IMPORT_ALLOWED_CIDRS entries are CIDRs such as 127.0.0.0/8 or ::1/128 (got "localhost")',
      'WEBHOOK_ALLOWED_CIDRS entries are CIDRs such as 127.0.0.0/8 or ::1/128 (got "10.0.0.0/33")',
    ]);
  });

  test('secrets and secret lists: a random one of the process when unset, none in production, never echoed', () => {
    const dev = reading({}, (r) => [r.secret('S', { production: false, minBytes: 32 }), r.secretList('L', { production: false, minBytes: 32 })] as const);
    expect(Buffer.byteLength(dev.value[0])).toBeGreaterThanOrEqual(32);
    expect(dev.value[1]).toHaveLength(1);
    expect(reading({}, (r) => [r.secret('S', { production: true }), r.secretList('L', { production: true })])).toEqual({ value: ['', []], problems: [] });
    const short = reading({ S: 'hunter2', L: `${'k'.repeat(32)},hunter3` }, (r) => [r.secret('S', { production: true, minBytes: 32 }), r.secretList('L', { production: true, minBytes: 32 })]);
    expect(short.problems).toEqual(['S must be at least 32 bytes', 'L entries must be at least 32 bytes']);
    expect(short.problems.join(' ')).not.toMatch(/hunter/);
  });
});

describe('start-up', () => {
  test('fails listing every bad variable at once, one problem each', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      MAX_IMAGE_FILE_SIZE_MB: 'big',
      JWT_ACCESS_TTL: 'soon',
      WEBHOOK_ALLOWED_CIDRS: 'localhost',
      TEMPORAL_TLS: 'yes',
      OPENAI_BASE_URL: '::',
      LOG_LEVEL: 'loud',
      INFRA_RETRY_FOR: '0s',
    });
    expect(problems).toHaveLength(8);
    for (const name of ['PORT', 'MAX_IMAGE_FILE_SIZE_MB', 'JWT_ACCESS_TTL', 'WEBHOOK_ALLOWED_CIDRS', 'TEMPORAL_TLS', 'OPENAI_BASE_URL', 'LOG_LEVEL', 'INFRA_RETRY_FOR']) {
      expect([name, problems.filter((p) => p.startsWith(name)).length]).toEqual([name, 1]);
    }
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/^Invalid configuration:\n {2}- PORT must be an integer/);
  });

  test('each variable is read exactly once', () => {
    const reads = new Map<string, number>();
    const counting = new Proxy({} as Env, {
      get: (_t, name) => {
        if (typeof name === 'string') reads.set(name, (reads.get(name) ?? 0) + 1);
        return undefined;
      },
    });
    loadConfig(counting);
    expect([...reads].filter(([, n]) => n !== 1)).toEqual([]);
    expect(configVariables()).toEqual([...reads.keys()].sort());
    // A second read of one variable is a mistake in the code, not in the environment.
    const r = new EnvReader({});
    r.string('A', '');
    expect(() => r.int('A', 0)).toThrow(/A is read twice/);
  });

  test('settings shared by concerns are read once and handed on', () => {
    const c = loadConfig({ MAX_IMAGE_FILE_SIZE_MB: '200', S3_ENDPOINT: 'http://minio:9000', DEFAULT_RETENTION_DAYS: '3', TEMPORAL_TASK_QUEUE: 'q', FFMPEG_PATH: '/opt/ffmpeg/bin/ffmpeg' });
    expect(c.intake.importMaxBytes).toBe(200 * 1024 ** 2);
    expect(c.intake.s3PublicEndpoint.href).toBe('http://minio:9000/');
    expect(c.organizationDefaults.retentionDays).toBe(3);
    expect(c.lifecycle.workerTaskQueues).toEqual(['q-high', 'q', 'q-low']);
    expect(c.ai.local.ffmpegPath).toBe('/opt/ffmpeg/bin/ffmpeg');
    // MAX_FILE_SIZE_MB, the older name, is MAX_IMAGE_FILE_SIZE_MB's default.
    expect(loadConfig({ MAX_FILE_SIZE_MB: '20' }).media.image.maxFileSizeBytes).toBe(20 * 1024 ** 2);
  });

  test('FFMPEG_PATH and FFPROBE_PATH: ffmpeg and ffprobe on PATH unless set', () => {
    expect(loadConfig({ PATH: '/usr/bin:/bin' }).media.ffmpeg).toEqual({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', searchPath: '/usr/bin:/bin' });
    expect(loadConfig({ FFMPEG_PATH: '/opt/ff/ffmpeg', FFPROBE_PATH: '/opt/ff/ffprobe' }).media.ffmpeg).toMatchObject({ ffmpegPath: '/opt/ff/ffmpeg', ffprobePath: '/opt/ff/ffprobe' });
  });
});
