// libvips (and so sharp) has no BMP loader, while BMP is a format uploads accept: this decodes the
// Windows bitmaps that tools write (uncompressed 1/4/8/24/32-bit, and 16/32-bit with bit fields),
// top-down or bottom-up, into RGBA pixels for sharp's raw input. RLE-compressed bitmaps are refused.

export interface BmpImage {
  width: number;
  height: number;
  /** RGBA, row-major from the top. */
  data: Buffer;
}

export class BmpError extends Error {}

export function isBmp(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x42 && head[1] === 0x4d;
}

/** Width and height from the header, without decoding (for limit checks before any allocation). */
export function bmpSize(buf: Buffer): { width: number; height: number } {
  if (buf.length < 26 || !isBmp(buf)) throw new BmpError('not a BMP file');
  const headerSize = buf.readUInt32LE(14);
  if (headerSize === 12) return { width: buf.readUInt16LE(18), height: buf.readUInt16LE(20) };
  if (buf.length < 54 || headerSize < 40) throw new BmpError('unsupported BMP header');
  return { width: buf.readInt32LE(18), height: Math.abs(buf.readInt32LE(22)) };
}

export function decodeBmp(buf: Buffer): BmpImage {
  const { width, height } = bmpSize(buf);
  const headerSize = buf.readUInt32LE(14);
  const dataOffset = buf.readUInt32LE(10);
  if (headerSize === 12) throw new BmpError('OS/2 bitmaps are not supported');
  const rawHeight = buf.readInt32LE(22);
  const topDown = rawHeight < 0;
  const bpp = buf.readUInt16LE(28);
  const compression = buf.readUInt32LE(30);
  if (width <= 0 || height <= 0) throw new BmpError('BMP has no pixels');
  if (compression === 1 || compression === 2) throw new BmpError('RLE-compressed bitmaps are not supported');
  if (compression !== 0 && compression !== 3 && compression !== 6) throw new BmpError(`BMP compression ${compression} is not supported`);

  // Bit fields follow a 40-byte header; larger headers (V4/V5) carry them inside.
  let masks: [number, number, number, number] | undefined;
  if (compression === 3 || compression === 6) {
    const at = 54;
    if (buf.length < at + 12) throw new BmpError('truncated BMP bit fields');
    const alpha = headerSize >= 56 || compression === 6 ? buf.readUInt32LE(at + 12) : 0;
    masks = [buf.readUInt32LE(at), buf.readUInt32LE(at + 4), buf.readUInt32LE(at + 8), alpha];
  } else if (bpp === 16) {
    masks = [0x7c00, 0x03e0, 0x001f, 0];
  } else if (bpp === 32) {
    masks = [0x00ff0000, 0x0000ff00, 0x000000ff, 0];
  }

  let palette: Buffer | undefined;
  if (bpp <= 8) {
    const colors = buf.readUInt32LE(46) || 1 << bpp;
    const start = 14 + headerSize;
    palette = buf.subarray(start, Math.min(start + colors * 4, buf.length));
  } else if (bpp !== 16 && bpp !== 24 && bpp !== 32) {
    throw new BmpError(`${bpp}-bit bitmaps are not supported`);
  }

  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + stride * height > buf.length) throw new BmpError('truncated BMP pixel data');
  const out = Buffer.alloc(width * height * 4);
  const channel = (value: number, mask: number): number => {
    if (!mask) return 255;
    const shift = 31 - Math.clz32(mask & -mask); // the lowest set bit
    const max = mask >>> shift;
    return Math.round((((value & mask) >>> shift) * 255) / max);
  };

  for (let row = 0; row < height; row++) {
    const src = dataOffset + (topDown ? row : height - 1 - row) * stride;
    for (let x = 0; x < width; x++) {
      const o = (row * width + x) * 4;
      if (palette) {
        const bitPos = x * bpp;
        const byte = buf[src + (bitPos >> 3)]!;
        const index = (byte >> (8 - bpp - (bitPos & 7))) & ((1 << bpp) - 1);
        const p = index * 4;
        out[o] = palette[p + 2] ?? 0;
        out[o + 1] = palette[p + 1] ?? 0;
        out[o + 2] = palette[p] ?? 0;
        out[o + 3] = 255;
      } else if (bpp === 24) {
        const p = src + x * 3;
        out[o] = buf[p + 2]!;
        out[o + 1] = buf[p + 1]!;
        out[o + 2] = buf[p]!;
        out[o + 3] = 255;
      } else {
        const value = bpp === 16 ? buf.readUInt16LE(src + x * 2) : buf.readUInt32LE(src + x * 4);
        const [r, g, b, a] = masks!;
        out[o] = channel(value, r);
        out[o + 1] = channel(value, g);
        out[o + 2] = channel(value, b);
        out[o + 3] = channel(value, a);
      }
    }
  }
  return { width, height, data: out };
}
