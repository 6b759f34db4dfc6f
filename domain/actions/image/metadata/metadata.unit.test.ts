import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { actionRunner, expectFormReady } from '../../../../tests/support/action-run.js';
import metadata from './metadata.js';

const runner = actionRunner(metadata);
afterEach(() => runner.cleanup());

const XMP = `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Ada Tester</dc:creator></rdf:Description>
</rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;

const base = (width = 64, height = 48) => sharp({ create: { width, height, channels: 3, background: '#336699' } });

/** A camera-like JPEG: EXIF with GPS (IFD3 is the GPS directory in libvips), a Display P3 profile and XMP. */
const cameraJpeg = () =>
  base()
    .jpeg()
    .withExif({
      IFD0: { Make: 'Acme', Model: 'Cam 1', Software: 'mediaflow-test' },
      IFD2: { DateTimeOriginal: '2024:05:06 07:08:09', ExposureTime: '1/250', FNumber: '28/10' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '51/1 30/1 2645/100',
        GPSLongitudeRef: 'W',
        GPSLongitude: '0/1 7/1 3960/100',
        GPSAltitudeRef: '0',
        GPSAltitude: '355/10',
      },
    })
    .withIccProfile('p3')
    .withXmp(XMP)
    .toBuffer();

test('a camera JPEG: dimensions, EXIF decoded, GPS in decimal degrees, ICC and XMP', async () => {
  const input = await cameraJpeg();
  const data = await runner.runJson(input, {});
  expect(data).toMatchObject({
    format: 'jpeg',
    width: 64,
    height: 48,
    stored_width: 64,
    stored_height: 48,
    size_bytes: input.length,
    color_space: 'srgb',
    channels: 3,
    bit_depth: 'uchar',
    has_alpha: false,
    has_icc_profile: true,
    is_progressive: false,
    frames: 1,
  });
  expect(data.exif.Image).toMatchObject({ Make: 'Acme', Model: 'Cam 1', Software: 'mediaflow-test' });
  expect(data.exif.Photo).toMatchObject({ DateTimeOriginal: '2024-05-06T07:08:09', ExposureTime: 0.004, FNumber: 2.8, ExifVersion: '0210' });
  // 51°30'26.45" N, 0°7'39.6" W: London.
  expect(data.gps.latitude).toBeCloseTo(51 + 30 / 60 + 26.45 / 3600, 6);
  expect(data.gps.longitude).toBeCloseTo(-(7 / 60 + 39.6 / 3600), 6);
  expect(data.gps.altitude).toBeCloseTo(35.5, 6);
  expect(data.icc).toMatchObject({ color_space: 'RGB', connection_space: 'XYZ', device_class: 'Monitor' });
  expect(data.icc.description).toMatch(/P3/);
  expect(data.icc.size_bytes).toBeGreaterThan(100);
  expect(data.xmp).toContain('<dc:creator>Ada Tester</dc:creator>');
});

/**
 * libvips writes the BYTE tag GPSAltitudeRef as 0 whatever it is given, so the "below sea level"
 * flag is set in the bytes: the little-endian IFD entry tag 5, type BYTE, count 1, value 0.
 */
function belowSeaLevel(jpeg: Buffer): Buffer {
  const entry = Buffer.from([0x05, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]);
  const at = jpeg.indexOf(entry);
  expect(at).toBeGreaterThan(0);
  expect(jpeg.indexOf(entry, at + 1)).toBe(-1);
  const patched = Buffer.from(jpeg);
  patched[at + 8] = 1;
  return patched;
}

test('southern and below-sea-level positions are negative', async () => {
  const input = belowSeaLevel(
    await base()
      .jpeg()
      .withExif({ IFD3: { GPSLatitudeRef: 'S', GPSLatitude: '33/1 52/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '151/1 12/1 36/1', GPSAltitudeRef: '0', GPSAltitude: '10/1' } })
      .toBuffer(),
  );
  const { gps, exif } = await runner.runJson(input, {});
  expect(exif.GPSInfo.GPSAltitudeRef).toBe(1);
  expect(gps.latitude).toBeCloseTo(-(33 + 52 / 60), 6);
  expect(gps.longitude).toBeCloseTo(151 + 12 / 60 + 36 / 3600, 6);
  expect(gps.altitude).toBe(-10);
});

test('a plain PNG with alpha has no EXIF, GPS, ICC or XMP', async () => {
  const input = await sharp({ create: { width: 30, height: 20, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.5 } } }).png().toBuffer();
  const data = await runner.runJson(input, {});
  expect(data).toMatchObject({ format: 'png', width: 30, height: 20, channels: 4, has_alpha: true, exif: null, gps: null, icc: null, xmp: null, orientation: null });
});

test('orientation and density: displayed size is swapped, stored size is not', async () => {
  const input = await base(200, 100).jpeg().withMetadata({ orientation: 6, density: 300 }).toBuffer();
  const data = await runner.runJson(input, {});
  expect(data).toMatchObject({ orientation: 6, width: 100, height: 200, stored_width: 200, stored_height: 100, density: 300 });
});

test('corrupt and truncated files are bad input, even when the header is intact', async () => {
  const big = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).jpeg().toBuffer();
  await expect(runner.run(big.subarray(0, big.length / 2), {})).rejects.toMatchObject({ type: 'INVALID_INPUT' });
  await expect(runner.run(Buffer.concat([big.subarray(0, 50), Buffer.alloc(1000)]), {})).rejects.toMatchObject({ type: 'INVALID_INPUT' });
  // A PNG header claiming 100000x100000 pixels: refused by size, never decoded.
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).png().toBuffer();
  const lying = Buffer.from(png);
  lying.writeUInt32BE(100_000, 16);
  lying.writeUInt32BE(100_000, 20);
  await expect(runner.run(lying, {})).rejects.toMatchObject({ type: 'INVALID_INPUT', message: expect.stringMatching(/100000x100000|cannot decode/) });
});

test('parameters: none, and nothing else is accepted', () => {
  expectFormReady(metadata);
  expect(runner.problems({})).toEqual([]);
  expect(runner.problems({ verbose: true })).toContain('parameters.verbose');
});

describe('density is what the file states, or null', () => {
  const pixels = () => base(40, 30);

  test('a JPEG that states none (no JFIF, no EXIF resolution) has none, not 72', async () => {
    const input = await pixels().jpeg().toBuffer();
    expect(input.indexOf('JFIF')).toBe(-1);
    expect((await runner.runJson(input, {})).density).toBeNull();
  });

  test('a unitless JFIF density is an aspect ratio, not pixels per inch', async () => {
    // JFIF APP0 with units 0 and 72:72, the way many encoders (ffmpeg among them) write it.
    const jpeg = await pixels().jpeg().toBuffer();
    const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x02, 0x00, 0x00, 0x48, 0x00, 0x48, 0x00, 0x00]);
    const input = Buffer.concat([jpeg.subarray(0, 2), app0, jpeg.subarray(2)]);
    expect((await runner.runJson(input, {})).density).toBeNull();
    // The same segment in dots per inch (units 1), and per centimetre (units 2: 118 → 299.72).
    const perInch = Buffer.from(input);
    perInch[2 + 11] = 1;
    perInch.writeUInt16BE(150, 2 + 12);
    expect((await runner.runJson(perInch, {})).density).toBe(150);
    const perCm = Buffer.from(input);
    perCm[2 + 11] = 2;
    perCm.writeUInt16BE(118, 2 + 12);
    expect((await runner.runJson(perCm, {})).density).toBeCloseTo(299.72, 2);
  });

  test('a PNG without pHYs, or with a unitless one, has none; a pHYs in metres is converted', async () => {
    const stated = await pixels().png().withMetadata({ density: 300 }).toBuffer();
    expect((await runner.runJson(stated, {})).density).toBe(300);
    // libvips writes 1 pixel/mm (25.4 dpi) into the pHYs of an image that never had a density.
    const plain = await pixels().png().toBuffer();
    const at = plain.indexOf('pHYs');
    // Without the chunk (length, type, 9 bytes of data, CRC): libvips would say 72.
    const none = Buffer.concat([plain.subarray(0, at - 4), plain.subarray(at + 17)]);
    expect(none.indexOf('pHYs')).toBe(-1);
    expect((await runner.runJson(none, {})).density).toBeNull();
    const unitless = Buffer.from(plain);
    unitless[at + 12] = 0;
    // The chunk's CRC covers its unit byte: recompute it so the PNG stays valid.
    unitless.writeUInt32BE(crc32(unitless.subarray(at, at + 13)), at + 13);
    expect((await runner.runJson(unitless, {})).density).toBeNull();
  });
});

test('AVIF is reported as avif, and an EXIF orientation of 1 as 1', async () => {
  const avif = await base().avif().toBuffer();
  expect((await runner.runJson(avif, {})).format).toBe('avif');
  const upright = await base().jpeg().withMetadata({ orientation: 1 }).toBuffer();
  expect((await runner.runJson(upright, {})).orientation).toBe(1);
});
