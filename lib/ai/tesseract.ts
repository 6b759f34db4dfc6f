import { execFile } from 'node:child_process';
import { AI_PROVIDER_ERROR, AI_PROVIDER_UNAVAILABLE, type AiProvider, type OcrResult, ProviderError } from './ports.js';

export interface TesseractSettings {
  command: string;
  timeoutMs: number;
}

const WORD_LEVEL = '5';

/** Local OCR with the `tesseract` CLI: no key, no network. Runs bounded by a timeout and the activity's signal. */
export function createTesseractProvider(s: TesseractSettings): AiProvider {
  return {
    name: 'tesseract',
    async ocr(image, { language = 'eng', signal }) {
      const tsv = await run(s, [image.path, 'stdout', '-l', language, 'tsv'], signal);
      return parseTsv(tsv);
    },
  };
}

function run(s: TesseractSettings, args: string[], signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      s.command,
      args,
      { signal, timeout: s.timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        if (signal.aborted) return reject(err);
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        if (e.code === 'ENOENT') return reject(new ProviderError(AI_PROVIDER_ERROR, `tesseract is not installed (${s.command} not found)`));
        if (e.killed) return reject(new ProviderError(AI_PROVIDER_UNAVAILABLE, `tesseract did not finish within ${s.timeoutMs} ms`));
        if (/Failed loading language|Could not initialize tesseract/i.test(stderr)) {
          return reject(new ProviderError(AI_PROVIDER_ERROR, `tesseract has no data for language "${args[3]}"`));
        }
        // Tesseract and execFile name the image by its path in the worker's temporary directory.
        const detail = stderr.trim().split('\n').filter(Boolean).pop() ?? 'it exited with an error';
        reject(new ProviderError(AI_PROVIDER_ERROR, `tesseract failed: ${withoutPaths(detail.slice(0, 300), args[0]!)}`));
      },
    );
  });
}

/** A message without the image's path, nor any other absolute path. */
export function withoutPaths(message: string, path: string): string {
  return message.split(path).join('the image').replace(/(?:\/[\w.@+-]+){2,}\/?/g, '<path>');
}

/**
 * Tesseract's TSV: one row per page, block, paragraph, line and word (level 1–5). Words become the
 * blocks (box and confidence 0–1); the text keeps Tesseract's lines and paragraphs.
 */
export function parseTsv(tsv: string): Omit<OcrResult, 'usage'> {
  const blocks: OcrResult['blocks'] = [];
  const lines: string[] = [];
  let lastLine = '';
  let lastPara = '';
  for (const row of tsv.split('\n').slice(1)) {
    const cols = row.split('\t');
    if (cols.length < 12 || cols[0] !== WORD_LEVEL) continue;
    const [, page, block, par, line, , left, top, width, height, conf] = cols;
    const text = cols.slice(11).join('\t').trim();
    const confidence = Number(conf);
    if (!text || confidence < 0) continue;
    blocks.push({
      text,
      confidence: Math.round(confidence * 10) / 1000,
      bbox: { left: Number(left), top: Number(top), width: Number(width), height: Number(height) },
    });
    const paraKey = `${page}.${block}.${par}`;
    const lineKey = `${paraKey}.${line}`;
    if (lineKey === lastLine) {
      lines[lines.length - 1] += ` ${text}`;
    } else {
      if (lastPara && paraKey !== lastPara) lines.push('');
      lines.push(text);
    }
    lastLine = lineKey;
    lastPara = paraKey;
  }
  return { text: lines.join('\n'), blocks };
}
