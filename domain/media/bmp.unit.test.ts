// BMPs written by ffmpeg in each pixel format it offers, decoded here and compared pixel by pixel
// with ffmpeg's own decoding of the same file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBmp } from './bmp.js';
import { INVALID_INPUT } from '../actions/types.js';
import { decodeImage } from './sharp-io.js';

const dir = mkdtempSync(join(tmpdir(), 'mf-bmp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function make(pixFmt: string, size = '67x41'): { bmp: Buffer; rgba: Buffer } {
  const bmp = join(dir, `${pixFmt}.bmp`);
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${size}`, '-frames:v', '1', '-pix_fmt', pixFmt, bmp]);
  const rgba = execFileSync('ffmpeg', ['-loglevel', 'error', '-i', bmp, '-f', 'rawvideo', '-pix_fmt', 'rgba', '-']);
  return { bmp: readFileSync(bmp), rgba };
}

test.each(['bgr24', 'bgra', 'pal8', 'rgb555le', 'rgb565le', 'rgb444le', 'monob', 'gray'])('decodes a %s bitmap as ffmpeg does', (pixFmt) => {
  const { bmp, rgba } = make(pixFmt);
  const img = decodeBmp(bmp);
  expect([img.width, img.height]).toEqual([67, 41]);
  let worst = 0;
  for (let i = 0; i < rgba.length; i++) worst = Math.max(worst, Math.abs(rgba[i]! - img.data[i]!));
  // 4- and 5-bit channels are widened differently (bit replication vs rounding): at most a step apart.
  expect(worst).toBeLessThanOrEqual(pixFmt === 'rgb444le' ? 17 : pixFmt.startsWith('rgb5') ? 8 : 0);
});

test('actions and thumbnails open a BMP through sharp', async () => {
  const { bmp } = make('bgr24', '320x200');
  const path = join(dir, 'photo.bmp');
  writeFileSync(path, bmp);
  const decoded = await decodeImage(path, { image: { maxResolution: 8192 } });
  expect([decoded.width, decoded.height]).toEqual([320, 200]);
  const png = await decoded.image.png().toBuffer();
  expect(png.subarray(1, 4).toString()).toBe('PNG');
});

test('a truncated or oversized BMP is bad input, not a crash', async () => {
  const { bmp } = make('bgr24');
  const cut = join(dir, 'cut.bmp');
  writeFileSync(cut, bmp.subarray(0, 200));
  await expect(decodeImage(cut, { image: { maxResolution: 8192 } })).rejects.toMatchObject({ type: INVALID_INPUT });
  const big = Buffer.from(bmp);
  big.writeInt32LE(100_000, 18);
  const huge = join(dir, 'huge.bmp');
  writeFileSync(huge, big);
  await expect(decodeImage(huge, { image: { maxResolution: 8192 } })).rejects.toThrow(/over the 8192px limit/);
});
