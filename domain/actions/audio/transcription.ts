// One transcription request and its result as aud_transcribe returns it: the action runs them on
// its whole input, or the activities that run long audio in pieces on each piece and on the joined
// transcript (the action's `pieces`).
import type { AiRegistry, AudioInput, Transcript } from '#lib/ai/ports.js';
import { stepUsage, usageData } from '../ai-support.js';
import type { ActionOutput } from '../types.js';
import { transcriptData } from './ai-audio.js';
import { routeModel } from './transcribe-models.js';
// aud_transcribe's parameters, as its schema gives them (a type-only import: no cycle at run time).
import type { TranscribeParams } from './transcribe/transcribe.js';

export type { TranscribeParams };

/** The provider the parameters choose (throws a non-retryable ActionError when none is configured). */
export function transcriptionProvider(ai: AiRegistry, params: TranscribeParams) {
  const route = routeModel(params.model, params.diarize);
  return { provider: ai.forAction('aud_transcribe', 'transcribe', route.provider), providerModel: route.providerModel };
}

export async function transcribeAudio(
  ai: AiRegistry,
  params: TranscribeParams,
  audio: AudioInput,
  opts: { signal: AbortSignal; onProgress?: (fraction: number) => void },
): Promise<{ transcript: Transcript; provider: string }> {
  const { provider, providerModel } = transcriptionProvider(ai, params);
  const transcript = await provider.transcribe!(audio, {
    model: providerModel,
    language: params.language === 'auto' ? undefined : params.language,
    diarize: params.diarize,
    prompt: params.prompt || undefined,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  return { transcript, provider: provider.name };
}

export function transcribeResult(transcript: Transcript, provider: string, params: TranscribeParams, durationSeconds: number): Extract<ActionOutput, { type: 'json' }> {
  const requested = params.language === 'auto' ? undefined : params.language;
  const usage = transcript.usage ?? { provider: provider as 'openai', model: transcript.model ?? params.model, inputTokens: 0, outputTokens: 0 };
  return {
    type: 'json',
    data: {
      ...transcriptData(transcript, durationSeconds),
      language: requested ?? transcript.language ?? null,
      language_detected: !requested && transcript.language !== undefined,
      model: transcript.model ?? usage.model,
      requested_model: params.model,
      provider,
      usage: usageData(usage),
    },
    usage: stepUsage(usage),
  };
}
