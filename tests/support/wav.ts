import { execFile } from 'node:child_process';
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A real WAV file (a sine tone) made by ffmpeg, `seconds` long. */
export async function makeWav(seconds = 2, frequency = 440): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'mf-wav-'));
  const out = join(dir, 'tone.wav');
  try {
    await promisify(execFile)('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `sine=frequency=${frequency}:duration=${seconds}`, '-ac', '1', '-ar', '16000', out]);
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
