import { readFile } from 'node:fs/promises';
import Anthropic from '@anthropic-ai/sdk';
import { AI_PROVIDER_ERROR, type AiProvider, type ImageInput, type Usage, ProviderError } from './ports.js';
import type { AiConfig } from '../config.js';
import { toProviderError } from './errors.js';
import { DESCRIBE_PROMPT, OCR_PROMPT, ocrUserText, parseJsonReply, toDescription, toOcrResult } from './replies.js';

const MAX_TOKENS = 2048;

export type AnthropicSettings = AiConfig['anthropic'] & { apiKey: string; timeoutMs: number };

export function createAnthropicClient(s: AnthropicSettings): Anthropic {
  // Everything explicit, so the SDK reads nothing from the environment; retries belong to Temporal.
  return new Anthropic({
    apiKey: s.apiKey,
    baseURL: s.baseUrl,
    webhookKey: null,
    maxRetries: 0,
    timeout: s.timeoutMs,
    logLevel: 'off',
  });
}

export function createAnthropicProvider(s: AnthropicSettings, client = createAnthropicClient(s)): AiProvider {
  async function askJson(system: string, userText: string, image: ImageInput, signal: AbortSignal) {
    const data = (await readFile(image.path)).toString('base64');
    let res: Anthropic.Message;
    try {
      res = await client.messages.create(
        {
          model: s.model,
          max_tokens: MAX_TOKENS,
          system,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image', source: { type: 'base64', media_type: image.mimeType, data } },
                { type: 'text', text: userText },
              ],
            },
          ],
        },
        { signal },
      );
    } catch (err) {
      throw toProviderError('anthropic', err, signal);
    }
    if (res.stop_reason === 'max_tokens') throw new ProviderError(AI_PROVIDER_ERROR, 'anthropic cut its reply short (max_tokens)');
    if (res.stop_reason === 'refusal') throw new ProviderError(AI_PROVIDER_ERROR, 'anthropic declined to describe this image');
    const text = res.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    const usage: Usage = {
      provider: 'anthropic',
      model: res.model || s.model,
      inputTokens: res.usage?.input_tokens ?? 0,
      outputTokens: res.usage?.output_tokens ?? 0,
    };
    return { raw: parseJsonReply('anthropic', text), usage };
  }

  return {
    name: 'anthropic',
    async describeImage(image, { signal }) {
      const { raw, usage } = await askJson(DESCRIBE_PROMPT, `The image is ${image.width}x${image.height} pixels.`, image, signal);
      return { ...toDescription(raw), usage };
    },
    async ocr(image, { language, signal }) {
      const { raw, usage } = await askJson(OCR_PROMPT, ocrUserText(image, language), image, signal);
      return { ...toOcrResult(raw, image), usage };
    },
  };
}
