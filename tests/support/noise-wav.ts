import { randomBytes } from 'node:crypto';

/** A WAV header (16-bit mono 16 kHz PCM) for `dataBytes` of samples. */
export function wavHeader(dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(16000, 24);
  h.writeUInt32LE(32000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** A valid WAV of exactly `size` bytes whose samples are random (noise). */
export const noiseWav = (size: number): Buffer => Buffer.concat([wavHeader(size - 44), randomBytes(size - 44)]);
