// Prompts asking vision models for JSON, and the checks that turn their replies into our shapes.
// A model's reply is untrusted input: anything missing or mistyped is dropped or defaulted.
import { AI_PROVIDER_ERROR, type ImageDescription, type ImageInput, type OcrResult, type ProviderName, ProviderError } from './ports.js';

export const OCR_PROMPT = [
  'You are an OCR engine. Read every piece of text in the image.',
  'Reply with JSON only: {"text": string, "blocks": [{"text": string, "confidence": number, "bbox": {"left": number, "top": number, "width": number, "height": number}}]}.',
  '"text" is all the text in reading order, lines separated by \\n. One block per line of text.',
  'bbox is in pixels of the image as given; confidence is between 0 and 1. No text: {"text": "", "blocks": []}.',
].join(' ');

export const ocrUserText = (image: ImageInput, language?: string) =>
  `The image is ${image.width}x${image.height} pixels.${language ? ` Expected language (ISO 639-2): ${language}.` : ''}`;

export const DESCRIBE_PROMPT = [
  'Describe the image for a media library.',
  'Reply with JSON only: {"caption": string, "tags": string[], "objects": [{"label": string, "confidence": number}],',
  '"safety": {"adult": boolean, "violence": boolean, "medical": boolean, "racy": boolean}}.',
  'caption is one sentence; tags are lowercase keywords; confidence is between 0 and 1.',
].join(' ');

/** The JSON object in a model's reply, tolerating a Markdown code fence around it. */
export function parseJsonReply(provider: ProviderName, text: string | null | undefined): Record<string, unknown> {
  const body = (text ?? '').trim().replace(/^```(?:json)?\s*/i, '').replace(/\s*```$/, '');
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ProviderError(AI_PROVIDER_ERROR, `${provider} did not reply with the JSON asked for`);
}

const num = (v: unknown, fallback = 0) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
const str = (v: unknown) => (typeof v === 'string' ? v : '');

export function toOcrResult(raw: Record<string, unknown>, image: ImageInput): Omit<OcrResult, 'usage'> {
  const blocks = (Array.isArray(raw.blocks) ? raw.blocks : [])
    .filter((b): b is Record<string, unknown> => typeof b === 'object' && b !== null && str((b as { text?: unknown }).text).trim() !== '')
    .map((b) => {
      const box = (typeof b.bbox === 'object' && b.bbox !== null ? b.bbox : {}) as Record<string, unknown>;
      const left = clamp(Math.round(num(box.left)), 0, image.width);
      const top = clamp(Math.round(num(box.top)), 0, image.height);
      return {
        text: str(b.text).trim(),
        confidence: clamp(num(b.confidence, 0.5), 0, 1),
        bbox: {
          left,
          top,
          width: clamp(Math.round(num(box.width)), 0, image.width - left),
          height: clamp(Math.round(num(box.height)), 0, image.height - top),
        },
      };
    });
  const text = str(raw.text) || blocks.map((b) => b.text).join('\n');
  return { text, blocks };
}

export function toDescription(raw: Record<string, unknown>): Omit<ImageDescription, 'usage'> {
  const safety: Record<string, boolean> = {};
  if (typeof raw.safety === 'object' && raw.safety !== null) {
    for (const [k, v] of Object.entries(raw.safety)) if (typeof v === 'boolean') safety[k] = v;
  }
  return {
    caption: str(raw.caption),
    tags: (Array.isArray(raw.tags) ? raw.tags : []).filter((t): t is string => typeof t === 'string' && t !== ''),
    objects: (Array.isArray(raw.objects) ? raw.objects : [])
      .filter((o): o is Record<string, unknown> => typeof o === 'object' && o !== null && str((o as { label?: unknown }).label) !== '')
      .map((o) => (typeof o.confidence === 'number' ? { label: str(o.label), confidence: clamp(o.confidence, 0, 1) } : { label: str(o.label) })),
    safety,
  };
}
