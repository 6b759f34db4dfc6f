import type { EnvReader } from './reader.js';

/**
 * Local speech recognition (PocketSphinx, US English): the decoder's command, its model files
 * (empty: the package's defaults) and the longest piece one decoder run is given; longer audio is
 * cut at silences and the pieces run in parallel. ffmpegPath: the ffmpeg that re-encodes the input
 * for the decoder (FFMPEG_PATH, see media.ts).
 */
export interface LocalSpeechConfig {
  command: string;
  hmm: string;
  lm: string;
  dict: string;
  maxPieceSeconds: number;
  ffmpegPath: string;
}

export function readLocalSpeech(r: EnvReader, { ffmpegPath }: { ffmpegPath: string }): LocalSpeechConfig {
  return {
    command: r.string('POCKETSPHINX_PATH', 'pocketsphinx_continuous'),
    hmm: r.string('POCKETSPHINX_HMM', ''),
    lm: r.string('POCKETSPHINX_LM', ''),
    dict: r.string('POCKETSPHINX_DICT', ''),
    maxPieceSeconds: r.duration('LOCAL_TRANSCRIBE_PIECE_SECONDS', '300s', { unit: 's', min: '10s', max: '1h' }),
    ffmpegPath,
  };
}
