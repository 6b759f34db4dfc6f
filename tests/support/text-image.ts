import sharp from 'sharp';

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A PNG of black text lines on white, rendered by sharp (librsvg + fontconfig: DejaVu Sans). */
export async function renderText(lines: string[], opts: { fontSize?: number; width?: number } = {}): Promise<Buffer> {
  const fontSize = opts.fontSize ?? 40;
  const lineHeight = Math.round(fontSize * 1.6);
  const width = opts.width ?? 40 + Math.max(...lines.map((l) => l.length)) * Math.round(fontSize * 0.75);
  const height = 40 + lines.length * lineHeight;
  const text = lines
    .map((l, i) => `<text x="20" y="${20 + fontSize + i * lineHeight}" font-family="DejaVu Sans" font-size="${fontSize}" fill="#000">${escape(l)}</text>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/>${text}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
