import { stat } from 'node:fs/promises';
import exifReader from 'exif-reader';
import { parse as parseIcc } from 'icc';
import { defaultRetry, defineAction, INVALID_INPUT } from '../../types.js';
import type { ParametersSchema } from '../../from-schema.js';
import { formatName, statedDensity } from '../../../media/density.js';
import { assertDecodable, decodeImage } from '../../../media/sharp-io.js';

/** XMP packets can be large; past this the string is cut and `xmp_truncated` is set. */
const MAX_XMP_CHARS = 256 * 1024;
/** Binary EXIF values up to this many bytes are given as hex; longer ones only by their length. */
const MAX_HEX_BYTES = 64;

const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });

const parameters = { type: 'object', additionalProperties: false, properties: {} } as const satisfies ParametersSchema;

export default defineAction({
  actionId: 'img_metadata',
  displayName: 'Image metadata',
  buttonLabel: 'Read metadata',
  description: 'Reads an image\'s dimensions, format, colour space and embedded metadata: EXIF (with the GPS position), ICC profile and XMP.',
  icon: 'info',
  mediaType: 'image',
  priceTier: 'process',
  resultType: 'json',
  parametersSchema: parameters,
  outputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['format', 'width', 'height', 'stored_width', 'stored_height', 'size_bytes', 'color_space', 'channels', 'bit_depth', 'has_alpha', 'has_icc_profile', 'is_progressive', 'orientation', 'density', 'frames', 'exif', 'gps', 'icc', 'xmp'],
    properties: {
      format: { type: 'string', examples: ['jpeg'] },
      width: { type: 'integer', description: 'Width as displayed (EXIF orientation applied).' },
      height: { type: 'integer', description: 'Height as displayed.' },
      stored_width: { type: 'integer', description: 'Width of the stored pixels.' },
      stored_height: { type: 'integer' },
      size_bytes: { type: 'integer' },
      color_space: { type: 'string', examples: ['srgb'] },
      channels: { type: 'integer' },
      bit_depth: { type: 'string', description: 'Sample format, e.g. uchar (8 bit) or ushort (16 bit).' },
      has_alpha: { type: 'boolean' },
      has_icc_profile: { type: 'boolean' },
      is_progressive: { type: 'boolean' },
      orientation: nullable({ type: 'integer', minimum: 1, maximum: 8 }),
      density: nullable({ type: 'number', description: 'Pixels per inch.' }),
      frames: { type: 'integer', minimum: 1 },
      exif: nullable({
        type: 'object',
        description: 'Decoded EXIF by directory (Image, Photo, GPSInfo, Iop, Thumbnail). Dates are local times without zone; binary values are hex.',
        additionalProperties: { type: 'object' },
      }),
      gps: nullable({
        type: 'object',
        additionalProperties: false,
        required: ['latitude', 'longitude'],
        properties: {
          latitude: { type: 'number', minimum: -90, maximum: 90 },
          longitude: { type: 'number', minimum: -180, maximum: 180 },
          altitude: { type: 'number', description: 'Metres above sea level.' },
        },
      }),
      icc: nullable({
        type: 'object',
        required: ['size_bytes'],
        properties: {
          size_bytes: { type: 'integer' },
          description: { type: 'string' },
          color_space: { type: 'string' },
          connection_space: { type: 'string' },
          device_class: { type: 'string' },
          version: { type: 'string' },
          intent: { type: 'string' },
          manufacturer: { type: 'string' },
          model: { type: 'string' },
          copyright: { type: 'string' },
        },
      }),
      xmp: nullable({ type: 'string', description: 'The XMP packet (XML).' }),
      xmp_truncated: { type: 'boolean' },
    },
  },
  timeouts: { startToCloseMs: 60_000, heartbeatMs: 30_000 },
  retry: defaultRetry,
  nonRetryableErrors: [INVALID_INPUT],
  inMemoryInput: true,
  async run({ inputPath, inputBuffer, limits, progress }) {
    const source = inputBuffer ?? inputPath;
    const { image, meta, width, height } = await decodeImage(source, limits, { timeoutMs: 50_000 });
    // The header alone would describe a truncated file; the pixels must decode too.
    await assertDecodable(image);
    progress(0.5);
    const exif = meta.exif ? decodeExif(meta.exif) : null;
    const xmp = meta.xmpAsString ?? (meta.xmp ? meta.xmp.toString('utf8') : undefined);
    return {
      type: 'json',
      data: {
        format: formatName(meta),
        width,
        height,
        stored_width: meta.width,
        stored_height: meta.height,
        size_bytes: inputBuffer ? inputBuffer.length : (await stat(inputPath)).size,
        color_space: meta.space,
        channels: meta.channels,
        bit_depth: meta.depth,
        has_alpha: meta.hasAlpha,
        has_icc_profile: meta.hasProfile,
        is_progressive: meta.isProgressive,
        // libvips drops an Orientation of 1 on some formats: EXIF still says it.
        orientation: meta.orientation ?? exifOrientation(exif?.raw.Image?.Orientation),
        density: await statedDensity(source, meta, exif?.raw.Image),
        frames: meta.pages ?? 1,
        exif: exif?.tags ?? null,
        gps: exif ? gpsPosition(exif.raw.GPSInfo) : null,
        icc: meta.icc ? describeIcc(meta.icc) : null,
        xmp: xmp === undefined ? null : clean(xmp.slice(0, MAX_XMP_CHARS)),
        ...(xmp !== undefined && xmp.length > MAX_XMP_CHARS ? { xmp_truncated: true } : {}),
      },
    };
  },
});

type RawExif = ReturnType<typeof exifReader>;

function exifOrientation(value: unknown): number | null {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 8 ? n : null;
}

/** EXIF that does not parse is reported as absent rather than failing the whole read. */
function decodeExif(buffer: Buffer): { raw: RawExif; tags: Record<string, Record<string, unknown>> } | null {
  let raw: RawExif;
  try {
    raw = exifReader(buffer);
  } catch {
    return null;
  }
  const tags: Record<string, Record<string, unknown>> = {};
  for (const [dir, values] of Object.entries(raw)) {
    if (typeof values !== 'object' || values === null) continue;
    tags[dir] = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, jsonValue(v)]));
  }
  return { raw, tags };
}

/** Makes an EXIF value JSON- and Postgres-safe: no Dates, Buffers, NaN or NUL characters. */
function jsonValue(v: unknown): unknown {
  if (v instanceof Date) {
    // exif-reader reads the zone-less EXIF time as UTC; give it back without a zone.
    return Number.isNaN(v.getTime()) ? null : v.toISOString().replace(/(\.000)?Z$/, '');
  }
  if (Buffer.isBuffer(v)) {
    const text = v.toString('latin1').replace(/\0+$/, '');
    if (text.length > 0 && /^[\x20-\x7e]*$/.test(text)) return text;
    return v.length <= MAX_HEX_BYTES ? v.toString('hex') : { bytes: v.length };
  }
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') return clean(v);
  if (Array.isArray(v)) return v.map(jsonValue);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonValue(x)]));
  return v ?? null;
}

const clean = (s: string) => s.replace(/\0/g, '');

function gpsPosition(gps: RawExif['GPSInfo']): { latitude: number; longitude: number; altitude?: number } | null {
  if (!gps) return null;
  const lat = degrees(gps.GPSLatitude, gps.GPSLatitudeRef, 'S');
  const lon = degrees(gps.GPSLongitude, gps.GPSLongitudeRef, 'W');
  if (lat === null || lon === null || Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  const position: { latitude: number; longitude: number; altitude?: number } = { latitude: round(lat), longitude: round(lon) };
  const alt = gps.GPSAltitude;
  if (typeof alt === 'number' && Number.isFinite(alt)) position.altitude = round(Number(gps.GPSAltitudeRef) === 1 ? -alt : alt);
  return position;
}

function degrees(dms: unknown, ref: unknown, negative: string): number | null {
  const parts = Array.isArray(dms) ? dms : typeof dms === 'number' ? [dms] : null;
  if (!parts || parts.length === 0 || !parts.every((n) => typeof n === 'number' && Number.isFinite(n))) return null;
  const [d = 0, m = 0, s = 0] = parts as number[];
  const value = d + m / 60 + s / 3600;
  return String(ref ?? '').trim().toUpperCase().startsWith(negative) ? -value : value;
}

const round = (n: number) => Math.round(n * 1e7) / 1e7;

/** The profile's header and description; a profile `icc` cannot parse still reports its size and header fields. */
function describeIcc(buffer: Buffer): Record<string, unknown> {
  const fields: Record<string, unknown> = { size_bytes: buffer.length };
  try {
    const p = parseIcc(buffer);
    const pairs: [string, unknown][] = [
      ['description', p.description],
      ['color_space', p.colorSpace],
      ['connection_space', p.connectionSpace],
      ['device_class', p.deviceClass],
      ['version', p.version],
      ['intent', p.intent],
      ['manufacturer', p.manufacturer],
      ['model', p.model],
      ['copyright', p.copyright],
    ];
    for (const [k, v] of pairs) if (typeof v === 'string' && v.trim()) fields[k] = clean(v.trim());
  } catch {
    if (buffer.length >= 24) {
      fields.color_space = clean(buffer.toString('latin1', 16, 20).trim());
      fields.connection_space = clean(buffer.toString('latin1', 20, 24).trim());
    }
  }
  return fields;
}
