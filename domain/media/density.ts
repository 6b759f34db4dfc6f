import { open } from 'node:fs/promises';
import type { Metadata } from 'sharp';

/** Resolution headers sit before the pixel data; ancillary chunks before them are rarely this large. */
const HEAD_BYTES = 4 * 1024 * 1024;

export interface ExifResolution {
  XResolution?: unknown;
  ResolutionUnit?: unknown;
}

/**
 * Pixels per inch as the file states it, or null when it states none. libvips reports 72 for
 * any file without a resolution and reads a unitless JFIF density (an aspect ratio) as pixels per
 * millimetre (72:72 becomes 1829), so JPEG and PNG headers are read here: EXIF's resolution first
 * (as viewers do), then JFIF's or PNG's pHYs, each only when it has a real unit.
 */
export async function statedDensity(path: string | Buffer, meta: Metadata, exif: ExifResolution | undefined): Promise<number | null> {
  const fromExif = exifDensity(exif);
  if (fromExif !== null) return fromExif;
  if (meta.format === 'jpeg') return jfifDensity(await head(path));
  if (meta.format === 'png') return pngDensity(await head(path));
  // TIFF states a unit with its resolution; formats without one have no density of their own.
  return meta.resolutionUnit && meta.density ? round(meta.density) : null;
}

function exifDensity(exif: ExifResolution | undefined): number | null {
  const x = Number(exif?.XResolution);
  if (!Number.isFinite(x) || x <= 0) return null;
  const unit = Number(exif?.ResolutionUnit ?? 2);
  if (unit === 2) return round(x);
  if (unit === 3) return round(x * 2.54);
  return null;
}

/** The APP0 JFIF segment: units 1 (per inch) or 2 (per cm); 0 is only an aspect ratio. */
export function jfifDensity(bytes: Buffer): number | null {
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1]!;
    const length = bytes.readUInt16BE(at + 2);
    if (marker === 0xe0 && bytes.toString('latin1', at + 4, at + 9) === 'JFIF\0' && at + 16 <= bytes.length) {
      const units = bytes[at + 11];
      const x = bytes.readUInt16BE(at + 12);
      if (!x) return null;
      return units === 1 ? x : units === 2 ? round(x * 2.54) : null;
    }
    if (marker === 0xda) break;
    at += 2 + length;
  }
  return null;
}

/** The pHYs chunk: unit 1 is per metre; unit 0 is only an aspect ratio. */
export function pngDensity(bytes: Buffer): number | null {
  let at = 8;
  while (at + 8 <= bytes.length) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (type === 'pHYs' && at + 17 <= bytes.length) {
      const x = bytes.readUInt32BE(at + 8);
      return bytes[at + 16] === 1 && x > 0 ? round(x * 0.0254) : null;
    }
    if (type === 'IDAT' || type === 'IEND') break;
    at += 12 + length;
  }
  return null;
}

async function head(path: string | Buffer): Promise<Buffer> {
  if (Buffer.isBuffer(path)) return path.subarray(0, HEAD_BYTES);
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

/** The name people know a format by: libvips calls AVIF (AV1 in HEIF) "heif". */
export function formatName(meta: Metadata): string | undefined {
  return meta.format === 'heif' && meta.compression === 'av1' ? 'avif' : meta.format;
}
