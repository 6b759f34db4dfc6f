// FromSchema is checked by the type checker (npm run typecheck covers tests): each assertion below
// fails to compile when a derived type differs from the one written out. The runtime test only
// keeps Jest content.
import type { OutputFormat } from '#domain/media/sharp-io.js';
import type { FormatConvertParams as AudioConvertParams } from './audio/format-convert/format-convert.js';
import type { AudioFormat, BITRATES } from './audio/audio-io.js';
import type { TranscribeModel } from './audio/transcribe-models.js';
import type { TranscribeParams } from './audio/transcribe/transcribe.js';
import type { TrimParams } from './audio/trim/trim.js';
import type { CropParams } from './image/crop/crop.js';
import type { OcrParams } from './image/ocr/ocr.js';
import type { ResizeParams } from './image/resize/resize.js';
import type { FromSchema } from './from-schema.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}

// The schema features themselves.
const _sample = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string' },
    count: { type: 'integer', default: 1 },
    ratio: { type: 'number' },
    on: { type: 'boolean', default: false },
    mode: { type: 'string', enum: ['a', 'b'], default: 'a' },
    fixed: { const: 7 },
    tags: { type: 'array', items: { type: 'string' } },
    maybe: { type: ['string', 'null'] },
    nested: { type: 'object', required: ['x'], properties: { x: { type: 'number' }, y: { type: 'string' } } },
  },
} as const;
expectType<
  Equal<
    FromSchema<typeof _sample>,
    {
      name: string;
      count: number;
      on: boolean;
      mode: 'a' | 'b';
      ratio?: number;
      fixed?: 7;
      tags?: string[];
      maybe?: string | null;
      nested?: { x: number; y?: string };
    }
  >
>();

// What the plugins' hand-kept interfaces used to say, now derived from their schemas.
expectType<
  Equal<
    ResizeParams,
    {
      width?: number;
      height?: number;
      fit: 'cover' | 'contain' | 'fill' | 'inside' | 'outside';
      position: 'centre' | 'north' | 'northeast' | 'east' | 'southeast' | 'south' | 'southwest' | 'west' | 'northwest' | 'entropy' | 'attention';
      without_enlargement: boolean;
      format: OutputFormat | 'original';
      quality: number;
      background: string;
    }
  >
>();
expectType<
  Equal<
    CropParams,
    { strategy: 'region' | 'attention' | 'entropy'; left?: number; top?: number; width: number; height: number; format: OutputFormat | 'original'; quality: number }
  >
>();
expectType<Equal<OcrParams, { provider: 'auto' | 'openai' | 'anthropic' | 'tesseract'; language: string }>>();
expectType<Equal<TranscribeParams, { model: TranscribeModel; language: string; diarize: boolean; prompt: string }>>();
expectType<
  Equal<TrimParams, { start: number; end?: number; duration?: number; fade_in: number; fade_out: number; format: AudioFormat | 'original' }>
>();
expectType<Equal<AudioConvertParams, { format: AudioFormat; bitrate: (typeof BITRATES)[number]; sample_rate: number; channels: 0 | 1 | 2 }>>();

test('parameter types are derived from the schemas (checked at compile time)', () => {
  expect(expectType<true>()).toBeUndefined();
});
