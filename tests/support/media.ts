import sharp from 'sharp';

/** A JPEG with real content (a gradient and shapes), made on the fly. */
export async function makeJpeg(width = 640, height = 480): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g"><stop offset="0" stop-color="#1e90ff"/><stop offset="1" stop-color="#ff8c00"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>
    <circle cx="${width / 3}" cy="${height / 2}" r="${height / 4}" fill="#fff"/>
  </svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).withExif({ IFD0: { Copyright: 'Mediaflow tests' } }).toBuffer();
}
