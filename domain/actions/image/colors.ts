import type { Sharp } from 'sharp';
import { render } from '../../media/sharp-io.js';

export interface DominantColor {
  hex: string;
  rgb: [number, number, number];
  fraction: number;
}

const ITERATIONS = 20;
/** Pixels more transparent than this are not part of any colour. */
const MIN_ALPHA = 128;

/** Seeds closer than this (RGB distance) would split one colour in two. */
const MIN_SEED_DISTANCE = 40;

/**
 * The `count` most common colours by k-means on a `sampleSize` thumbnail. The thumbnail is taken
 * by nearest neighbour so that it holds only colours of the image, never blends of edges. Seeds
 * are the fullest histogram bins that are clearly apart, so the same image always gives the same
 * answer and fewer colours come back when the image has fewer.
 */
export async function dominantColors(image: Sharp, sampleSize: number, count: number): Promise<DominantColor[]> {
  const { data } = await render(
    image
      .resize(sampleSize, sampleSize, { fit: 'inside', withoutEnlargement: true, kernel: 'nearest' })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }),
  );
  const pixels: number[][] = [];
  for (let i = 0; i + 3 < data.length; i += 4) {
    if (data[i + 3]! >= MIN_ALPHA) pixels.push([data[i]!, data[i + 1]!, data[i + 2]!]);
  }
  if (pixels.length === 0) return [];

  const centroids = seeds(pixels, count);
  const assignment = new Int32Array(pixels.length);
  for (let iter = 0; iter < ITERATIONS; iter++) {
    let moved = false;
    pixels.forEach((p, i) => {
      const nearest = nearestIndex(centroids, p);
      if (nearest !== assignment[i]) moved = true;
      assignment[i] = nearest;
    });
    const sums = centroids.map(() => [0, 0, 0, 0]);
    pixels.forEach((p, i) => {
      const s = sums[assignment[i]!]!;
      s[0]! += p[0]!;
      s[1]! += p[1]!;
      s[2]! += p[2]!;
      s[3]! += 1;
    });
    sums.forEach((s, k) => {
      if (s[3]! > 0) centroids[k] = [s[0]! / s[3]!, s[1]! / s[3]!, s[2]! / s[3]!];
    });
    if (!moved && iter > 0) break;
  }

  const sizes = new Array<number>(centroids.length).fill(0);
  for (const k of assignment) sizes[k]! += 1;
  return centroids
    .map((c, k) => ({ rgb: c.map((v) => Math.round(v)) as [number, number, number], size: sizes[k]! }))
    .filter((c) => c.size > 0)
    .sort((a, b) => b.size - a.size)
    .map(({ rgb, size }) => ({
      hex: `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`,
      rgb,
      fraction: Math.round((size / pixels.length) * 10_000) / 10_000,
    }));
}

/** Mean colours of the fullest 4-bit-per-channel bins, skipping any too close to one already taken. */
function seeds(pixels: number[][], count: number): number[][] {
  const bins = new Map<number, number[]>();
  for (const [r, g, b] of pixels) {
    const key = ((r! >> 4) << 8) | ((g! >> 4) << 4) | (b! >> 4);
    const bin = bins.get(key) ?? [0, 0, 0, 0];
    bin[0]! += r!;
    bin[1]! += g!;
    bin[2]! += b!;
    bin[3]! += 1;
    bins.set(key, bin);
  }
  const byCount = [...bins.entries()].sort((a, b) => b[1][3]! - a[1][3]! || a[0] - b[0]);
  const centroids: number[][] = [];
  for (const [, [r, g, b, n]] of byCount) {
    const mean = [r! / n!, g! / n!, b! / n!];
    if (centroids.every((c) => dist2(c, mean) >= MIN_SEED_DISTANCE ** 2)) centroids.push(mean);
    if (centroids.length === count) break;
  }
  return centroids;
}

function nearestIndex(centroids: number[][], p: number[]): number {
  let best = 0;
  let bestDistance = Infinity;
  centroids.forEach((c, k) => {
    const d = dist2(c, p);
    if (d < bestDistance) {
      bestDistance = d;
      best = k;
    }
  });
  return best;
}

const dist2 = (a: number[], b: number[]) => (a[0]! - b[0]!) ** 2 + (a[1]! - b[1]!) ** 2 + (a[2]! - b[2]!) ** 2;
