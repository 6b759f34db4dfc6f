import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import OpenAI, { toFile } from 'openai';
import {
  AI_PROVIDER_ERROR,
  type AiProvider,
  type AudioInput,
  type ImageInput,
  type Transcript,
  type TranscriptSegment,
  type Usage,
  ProviderError,
} from './ports.js';
import type { AiConfig } from '../config.js';
import { toProviderError } from './errors.js';
import { DESCRIBE_PROMPT, OCR_PROMPT, ocrUserText, parseJsonReply, toDescription, toOcrResult } from './replies.js';

/** The audio endpoints refuse larger uploads. */
export const OPENAI_AUDIO_MAX_BYTES = 25 * 1024 * 1024;
/** The only model the translations endpoint serves. */
const TRANSLATE_MODEL = 'whisper-1';
const DIARIZE_MODEL = 'gpt-4o-transcribe-diarize';

export type OpenAiSettings = AiConfig['openai'] & { apiKey: string; timeoutMs: number };

export function createOpenAiClient(s: OpenAiSettings): OpenAI {
  // Everything explicit, so the SDK reads nothing from the environment; retries belong to Temporal.
  return new OpenAI({
    apiKey: s.apiKey,
    baseURL: s.baseUrl,
    organization: null,
    project: null,
    webhookSecret: null,
    maxRetries: 0,
    timeout: s.timeoutMs,
    logLevel: 'off',
  });
}

export function createOpenAiProvider(s: OpenAiSettings, client = createOpenAiClient(s)): AiProvider {
  const call = async <T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toProviderError('openai', err, signal);
    }
  };

  async function chatJson(system: string, userText: string, image: ImageInput, signal: AbortSignal) {
    const dataUrl = `data:${image.mimeType};base64,${(await readFile(image.path)).toString('base64')}`;
    const res = await call(signal, () =>
      client.chat.completions.create(
        {
          model: s.visionModel,
          response_format: { type: 'json_object' },
          messages: [
            { role: 'system', content: system },
            {
              role: 'user',
              content: [
                { type: 'text', text: userText },
                { type: 'image_url', image_url: { url: dataUrl, detail: 'high' } },
              ],
            },
          ],
        },
        { signal },
      ),
    );
    const choice = res.choices[0];
    if (choice?.finish_reason === 'length') throw new ProviderError(AI_PROVIDER_ERROR, 'openai cut its reply short (output token limit)');
    return { raw: parseJsonReply('openai', choice?.message.content), usage: chatUsage(res.model || s.visionModel, res.usage) };
  }

  async function upload(audio: AudioInput) {
    const { size } = await stat(audio.path);
    const max = s.maxAudioBytes;
    if (size > max) {
      throw new ProviderError(AI_PROVIDER_ERROR, `openai accepts audio up to ${(max / 1048576).toFixed(1)} MB; this file is ${(size / 1048576).toFixed(1)} MB`);
    }
    return toFile(createReadStream(audio.path), audio.filename, { type: audio.mimeType });
  }

  return {
    name: 'openai',

    async ocr(image, { language, signal }) {
      const { raw, usage } = await chatJson(OCR_PROMPT, ocrUserText(image, language), image, signal);
      return { ...toOcrResult(raw, image), usage };
    },

    async describeImage(image, { signal }) {
      const { raw, usage } = await chatJson(DESCRIBE_PROMPT, `The image is ${image.width}x${image.height} pixels.`, image, signal);
      return { ...toDescription(raw), usage };
    },

    async transcribe(audio, { model, language, diarize, prompt, signal }) {
      const chosen = diarize ? DIARIZE_MODEL : (model ?? s.transcribeModel);
      const file = await upload(audio);
      // whisper-1 alone gives timestamps (verbose_json); the diarize model gives speaker segments;
      // the other gpt-4o models give text only.
      const format = chosen === 'whisper-1' ? 'verbose_json' : chosen === DIARIZE_MODEL ? 'diarized_json' : 'json';
      const res = await call(signal, () =>
        client.audio.transcriptions.create(
          {
            file,
            model: chosen,
            response_format: format,
            ...(format === 'verbose_json' ? { timestamp_granularities: ['segment', 'word'] as ('segment' | 'word')[] } : {}),
            ...(format === 'diarized_json' ? { chunking_strategy: 'auto' as const } : {}),
            ...(language ? { language } : {}),
            // The diarize model takes no prompt.
            ...(prompt && format !== 'diarized_json' ? { prompt } : {}),
          },
          { signal },
        ),
      );
      return toTranscript(res as unknown as RawTranscription, chosen);
    },

    async translateAudio(audio, { prompt, signal }) {
      const file = await upload(audio);
      const res = await call(signal, () =>
        client.audio.translations.create(
          { file, model: TRANSLATE_MODEL, response_format: 'verbose_json', ...(prompt ? { prompt } : {}) },
          { signal },
        ),
      );
      return { ...toTranscript(res as unknown as RawTranscription, TRANSLATE_MODEL), language: 'en' };
    },

    async translateText(texts, { targetLanguage, signal }) {
      const res = await call(signal, () =>
        client.chat.completions.create(
          {
            model: s.chatModel,
            response_format: { type: 'json_object' },
            messages: [
              {
                role: 'system',
                content:
                  `Translate each string of the user's JSON array "texts" into the language with code "${targetLanguage}". ` +
                  'Reply with JSON only: {"translations": string[]}, one translation per input string, in the same order.',
              },
              { role: 'user', content: JSON.stringify({ texts }) },
            ],
          },
          { signal },
        ),
      );
      const raw = parseJsonReply('openai', res.choices[0]?.message.content);
      const out = Array.isArray(raw.translations) ? raw.translations.map((t) => (typeof t === 'string' ? t : '')) : [];
      if (!out.length && texts.length) throw new ProviderError(AI_PROVIDER_ERROR, 'openai returned no translation');
      return { texts: out, usage: chatUsage(res.model || s.chatModel, res.usage) };
    },
  };
}

function chatUsage(model: string, u: { prompt_tokens: number; completion_tokens: number } | undefined): Usage {
  return { provider: 'openai', model, inputTokens: u?.prompt_tokens ?? 0, outputTokens: u?.completion_tokens ?? 0 };
}

interface RawTranscription {
  text?: string;
  language?: string;
  duration?: number;
  segments?: { id?: number | string; start?: number; end?: number; text?: string; speaker?: string; avg_logprob?: number }[];
  words?: { word: string; start: number; end: number }[];
  usage?: { type: 'tokens'; input_tokens: number; output_tokens: number } | { type: 'duration'; seconds: number };
}

/** One shape for all three reply formats; a reply without segments becomes one segment. */
function toTranscript(r: RawTranscription, model: string): Transcript {
  const text = (r.text ?? '').trim();
  const duration = r.duration ?? (r.usage?.type === 'duration' ? r.usage.seconds : undefined);
  const segments: TranscriptSegment[] = r.segments?.length
    ? r.segments.map((seg, i) => ({
        id: i,
        start: seg.start ?? 0,
        end: seg.end ?? seg.start ?? 0,
        text: (seg.text ?? '').trim(),
        ...(seg.speaker ? { speaker: seg.speaker } : {}),
        // Whisper's mean token log-probability, as a probability.
        ...(typeof seg.avg_logprob === 'number' ? { confidence: Math.min(1, Math.exp(seg.avg_logprob)) } : {}),
      }))
    : text
      ? [{ id: 0, start: 0, end: duration ?? 0, text }]
      : [];
  const usage: Usage = {
    provider: 'openai',
    model,
    inputTokens: r.usage?.type === 'tokens' ? r.usage.input_tokens : 0,
    outputTokens: r.usage?.type === 'tokens' ? r.usage.output_tokens : 0,
    ...(duration !== undefined ? { audioSeconds: duration } : {}),
  };
  return {
    text,
    ...(r.language ? { language: r.language } : {}),
    ...(duration !== undefined ? { duration } : {}),
    segments,
    ...(r.words?.length ? { words: r.words.map(({ word, start, end }) => ({ word, start, end })) } : {}),
    model,
    usage,
  };
}
