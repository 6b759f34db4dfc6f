import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childProcesses, makeAudio, MIME_TYPES, tone } from '../../tests/support/audio.js';
import { ActionError } from '../actions/types.js';
import { testFfmpeg as ffmpeg, testFfmpegOptions } from '../../tests/support/ffmpeg.js';
import { createFfmpeg, TIMEOUT } from './ffmpeg.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mf-ffmpeg-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const exists = (path: string) => stat(path).then(() => true, () => false);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
// A long job without a long fixture: ten minutes of generated noise, read in real time.
const endless = (output: string) => ({
  input: 'anoisesrc=d=600:a=0.5',
  inputFormat: 'lavfi',
  inputOptions: ['-re'],
  outputOptions: ['-c:a', 'flac', '-f', 'flac'],
  output,
  durationSeconds: 600,
});

describe('probe', () => {
  test.each([
    ['wav', 'wav', 'pcm_s16le'],
    ['mp3', 'mp3', 'mp3'],
    ['flac', 'flac', 'flac'],
    ['ogg', 'ogg', 'opus'],
    ['m4a', 'mov,mp4,m4a,3gp,3g2,mj2', 'aac'],
    ['webm', 'matroska,webm', 'opus'],
  ])('reads %s', async (ext, container, codec) => {
    const path = await makeAudio(join(dir, `probe.${ext}`), [tone(2)], { channels: 2 });
    const info = await ffmpeg.probe(path, { mimeType: MIME_TYPES[ext] });
    expect(info).toMatchObject({ container, codec, channels: 2 });
    expect(info.sampleRate).toBe(codec === 'opus' ? 48000 : 44100);
    expect(info.durationSeconds).toBeCloseTo(2, 1);
  });

  test('a text file, a truncated M4A and a container we do not accept are bad input', async () => {
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'not audio at all\n'.repeat(100));
    await expect(ffmpeg.probe(text)).rejects.toMatchObject({ constructor: ActionError, type: 'INVALID_INPUT' });

    const m4a = await makeAudio(join(dir, 'whole.m4a'), [tone(3)]);
    const truncated = join(dir, 'truncated.m4a');
    await writeFile(truncated, (await readFile(m4a)).subarray(0, 2000));
    await expect(ffmpeg.probe(truncated, { mimeType: 'audio/mp4' })).rejects.toMatchObject({ type: 'INVALID_INPUT' });

    const aiff = join(dir, 'tone.aiff');
    await ffmpeg.run({ input: 'sine=duration=1', inputFormat: 'lavfi', outputOptions: ['-f', 'aiff'], output: aiff });
    await expect(ffmpeg.probe(aiff)).rejects.toThrow(/unsupported audio container "aiff"/);
  });

  test('the forced demuxer refuses a file that is not what the upload said', async () => {
    const wav = await makeAudio(join(dir, 'labelled.wav'), [tone(1)]);
    await expect(ffmpeg.probe(wav, { mimeType: 'audio/flac' })).rejects.toMatchObject({ type: 'INVALID_INPUT' });
  });
});

describe('run', () => {
  test('reports progress against the expected duration and writes the output', async () => {
    const input = await makeAudio(join(dir, 'progress.wav'), [tone(20)]);
    const output = join(dir, 'progress.flac');
    const seen: number[] = [];
    const { processedSeconds } = await ffmpeg.run({
      input,
      inputFormat: 'wav',
      inputOptions: ['-re'],
      outputOptions: ['-t', '3', '-c:a', 'flac', '-f', 'flac'],
      output,
      durationSeconds: 3,
      onProgress: (f) => seen.push(f),
    });
    expect(processedSeconds).toBeCloseTo(3, 0);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen[0]).toBeLessThan(0.9);
    expect(seen.at(-1)).toBeGreaterThan(0.9);
    expect(Math.max(...seen)).toBeLessThanOrEqual(1);
    expect((await stat(output)).size).toBeGreaterThan(1000);
  });

  test('garbled audio fails as bad input and leaves no output', async () => {
    const flac = await makeAudio(join(dir, 'good.flac'), [tone(5)]);
    const bytes = await readFile(flac);
    // Keep the header, scramble everything after it.
    for (let i = 200; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    const garbled = join(dir, 'garbled.flac');
    await writeFile(garbled, bytes);
    const output = join(dir, 'garbled-out.wav');
    await expect(
      ffmpeg.run({ input: garbled, inputFormat: 'flac', outputOptions: ['-f', 'wav'], output, durationSeconds: 5 }),
    ).rejects.toMatchObject({ constructor: ActionError, type: 'INVALID_INPUT', message: expect.stringMatching(/could be decoded/) });
    expect(await exists(output)).toBe(false);
  });

  test('a time limit kills ffmpeg, removes the partial output and fails with TIMEOUT', async () => {
    const output = join(dir, 'slow.flac');
    let pid = 0;
    const started = Date.now();
    await expect(ffmpeg.run({ ...endless(output), timeoutMs: 1500, onStart: (p) => (pid = p) })).rejects.toMatchObject({
      constructor: ActionError,
      type: TIMEOUT,
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
    expect(await exists(output)).toBe(false);
  });

  test('aborting kills ffmpeg, removes the partial output and rejects with the abort reason', async () => {
    const output = join(dir, 'aborted.flac');
    const controller = new AbortController();
    let pid = 0;
    let partial = false;
    const running = ffmpeg.run({
      ...endless(output),
      signal: controller.signal,
      onStart: (p) => (pid = p),
      onProgress: () => {
        partial = existsSync(output);
        controller.abort(new Error('cancelled by test'));
      },
    });
    await expect(running).rejects.toThrow('cancelled by test');
    expect(partial).toBe(true);
    expect(alive(pid)).toBe(false);
    expect(await childProcesses('ffmpeg')).toEqual([]);
    expect(await exists(output)).toBe(false);
  });

  test('a process that ignores SIGTERM is killed with SIGKILL', async () => {
    // Stands in for a stuck ffmpeg: answers fluent-ffmpeg's capability queries, then ignores SIGTERM.
    const fake = join(dir, 'stuck-ffmpeg');
    await writeFile(fake, '#!/bin/sh\ncase "$1" in -formats|-encoders|-codecs|-filters) exec ffmpeg "$@";; esac\ntrap "" TERM\nexec sleep 60\n');
    await chmod(fake, 0o755);
    const stuck = createFfmpeg({ ...testFfmpegOptions, ffmpegPath: fake, killGraceMs: 300 });
    const controller = new AbortController();
    let pid = 0;
    const running = stuck.run({
      input: join(dir, 'whatever.wav'),
      outputOptions: [],
      output: join(dir, 'never.wav'),
      signal: controller.signal,
      onStart: (p) => {
        pid = p;
        setTimeout(() => controller.abort(new Error('stop')), 200);
      },
    });
    const started = Date.now();
    await expect(running).rejects.toThrow('stop');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(alive(pid)).toBe(false);
  });

  test('an already aborted signal never starts ffmpeg', async () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    let started = false;
    await expect(ffmpeg.run({ ...endless(join(dir, 'x.flac')), signal: controller.signal, onStart: () => (started = true) })).rejects.toThrow('too late');
    expect(started).toBe(false);
  });

  test('a missing binary is an infrastructure error, not bad input', async () => {
    const missing = createFfmpeg({ ...testFfmpegOptions, ffmpegPath: join(dir, 'no-ffmpeg'), ffprobePath: join(dir, 'no-ffprobe') });
    const input = await makeAudio(join(dir, 'fine.wav'), [tone(1)]);
    const probeError = await missing.probe(input).catch((e: unknown) => e);
    expect(probeError).toBeInstanceOf(Error);
    expect(probeError).not.toBeInstanceOf(ActionError);
    expect((probeError as Error).message).toMatch(/ffprobe is not installed/);
    const runError = await missing.run({ input, outputOptions: ['-f', 'flac'], output: join(dir, 'out.flac') }).catch((e: unknown) => e);
    expect(runError).toBeInstanceOf(Error);
    expect(runError).not.toBeInstanceOf(ActionError);
    expect((runError as Error).message).toMatch(/ffmpeg is not installed/);
  });
});
