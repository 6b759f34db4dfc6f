import { ProviderError, type AiProvider } from './ports.js';
import { loadConfig } from '../config.js';
import { createAiProviders } from './index.js';
import { createAiRegistry } from './registry.js';

const provider = (name: AiProvider['name'], caps: (keyof AiProvider)[]): AiProvider =>
  Object.fromEntries([['name', name], ...caps.map((c) => [c, async () => undefined])]) as unknown as AiProvider;

const openai = provider('openai', ['ocr', 'describeImage', 'transcribe']);
const anthropic = provider('anthropic', ['ocr', 'describeImage']);
const tesseract = provider('tesseract', ['ocr']);

test('a requested provider wins, and must be configured and capable', () => {
  const reg = createAiRegistry([openai, tesseract], { img_ocr: 'openai' });
  expect(reg.forAction('img_ocr', 'ocr', 'tesseract')).toBe(tesseract);
  expect(() => reg.forAction('img_ocr', 'ocr', 'anthropic')).toThrow(expect.objectContaining({ constructor: ProviderError, type: 'AI_PROVIDER_ERROR' }));
  expect(() => reg.forAction('img_describe', 'describeImage', 'tesseract')).toThrow(/cannot serve img_describe/);
});

test('the mapping decides, and an unconfigured mapping falls back to a capable provider', () => {
  expect(createAiRegistry([openai, tesseract, anthropic], { img_ocr: 'openai', img_describe: 'anthropic' }).forAction('img_describe', 'describeImage')).toBe(anthropic);
  const noKeys = createAiRegistry([tesseract], { img_ocr: 'openai', img_describe: 'anthropic' });
  expect(noKeys.forAction('img_ocr', 'ocr')).toBe(tesseract);
  expect(() => noKeys.forAction('img_describe', 'describeImage')).toThrow(/mapped to anthropic, which is not configured/);
});

// The defaults the AI actions declare (their definitions' `ai.provider`); configuration knows no action ids.
const DEFAULTS = { img_ocr: 'openai', img_describe: 'anthropic', aud_transcribe: 'openai', aud_translate: 'openai' } as const;

test('from configuration: keys decide which remote providers exist; OCR falls back to Tesseract, not Anthropic; speech to the local engine', () => {
  const bare = createAiProviders(loadConfig({}).ai, DEFAULTS);
  expect(bare.available()).toEqual(['tesseract', 'local']);
  expect(bare.forAction('img_ocr', 'ocr').name).toBe('tesseract');
  expect(bare.forAction('aud_transcribe', 'transcribe').name).toBe('local');
  expect(() => bare.forAction('aud_translate', 'translateAudio')).toThrow(/No configured AI provider/);

  const anthropicOnly = createAiProviders(loadConfig({ ANTHROPIC_API_KEY: 'k' }).ai, DEFAULTS);
  expect(anthropicOnly.forAction('img_ocr', 'ocr').name).toBe('tesseract');
  expect(anthropicOnly.forAction('img_describe', 'describeImage').name).toBe('anthropic');

  const both = createAiProviders(loadConfig({ OPENAI_API_KEY: 'k', ANTHROPIC_API_KEY: 'k', AI_PROVIDER_MAPPING: 'img_describe=openai' }).ai, DEFAULTS);
  expect(both.available()).toEqual(['openai', 'tesseract', 'local', 'anthropic']);
  expect(both.forAction('aud_transcribe', 'transcribe').name).toBe('openai');
  expect(both.forAction('img_ocr', 'ocr').name).toBe('openai');
  expect(both.forAction('img_describe', 'describeImage').name).toBe('openai');
  expect(both.forAction('aud_translate', 'translateText').name).toBe('openai');
  // Without the override, the declared default decides.
  expect(createAiProviders(loadConfig({ OPENAI_API_KEY: 'k', ANTHROPIC_API_KEY: 'k' }).ai, DEFAULTS).forAction('img_describe', 'describeImage').name).toBe('anthropic');
});

test('AI configuration: no mapping by default (the actions declare theirs), overrides, and every bad entry reported', () => {
  const { ai } = loadConfig({});
  expect(ai.providerMapping).toEqual({});
  expect(ai.openai).toMatchObject({ apiKey: undefined, baseUrl: 'https://api.openai.com/v1', transcribeModel: 'whisper-1', visionModel: 'gpt-4o-mini' });
  expect(ai.anthropic.baseUrl).toBe('https://api.anthropic.com');
  expect(loadConfig({ AI_PROVIDER_MAPPING: ' img_ocr = tesseract ', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1/' }).ai).toMatchObject({
    providerMapping: { img_ocr: 'tesseract' },
    openai: { baseUrl: 'http://127.0.0.1:1/v1' },
  });
  expect(() => loadConfig({ AI_PROVIDER_MAPPING: 'img_ocr=gemini,img_describe', ANTHROPIC_BASE_URL: 'not a url' })).toThrow(
    expect.objectContaining({ problems: expect.arrayContaining([expect.stringContaining('"img_ocr=gemini"'), expect.stringContaining('"img_describe"'), expect.stringContaining("ANTHROPIC_BASE_URL")]) }),
  );
});
