// `npm run bench:transcribe`: accuracy and speed of the local speech engine on the LibriVox
// recordings (with reference transcripts) that Debian's pocketsphinx-testdata ships. Prints, per
// recording and in total, the word error rate against the reference and the real-time factor
// (decoding time / audio length) of the provider, and as a baseline the bare decoder run on the
// same 16 kHz file in the same run (so the ratio is the provider's own overhead).
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { loadConfig } from '#lib/config.js';
import { createLocalSpeechProvider } from '#lib/ai/pocketsphinx.js';
import { librivoxRecordings, wordErrorRate } from '../tests/support/speech.js';

const exec = promisify(execFile);
const config = loadConfig(process.env).ai.local;
const local = createLocalSpeechProvider({ ...config, timeoutMs: 600_000 });
const dir = await mkdtemp(join(tmpdir(), 'mf-bench-transcribe-'));
const rows: string[][] = [];
let errors = 0;
let words = 0;
let audio = 0;
let provider = 0;
let bare = 0;
try {
  for (const rec of await librivoxRecordings()) {
    const input = join(dir, `${rec.id}.wav`);
    await copyFile(rec.path, input);
    const t0 = performance.now();
    const t = await local.transcribe!({ path: input, filename: 'audio.wav', mimeType: 'audio/wav' }, { signal: new AbortController().signal });
    const ms = performance.now() - t0;
    const b0 = performance.now();
    await exec(config.command, ['-infile', rec.path, '-time', 'yes', '-logfn', '/dev/null'], { maxBuffer: 16 * 1024 * 1024 });
    const bareMs = performance.now() - b0;
    const w = wordErrorRate(rec.reference, t.text);
    errors += w.errors;
    words += w.words;
    audio += t.duration ?? 0;
    provider += ms;
    bare += bareMs;
    rows.push([rec.id, (t.duration ?? 0).toFixed(2), `${(w.wer * 100).toFixed(1)}%`, (ms / 1000 / (t.duration ?? 1)).toFixed(3), (bareMs / 1000 / (t.duration ?? 1)).toFixed(3), (ms / bareMs).toFixed(2)]);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
rows.push(['total', audio.toFixed(2), `${((errors / words) * 100).toFixed(1)}%`, (provider / 1000 / audio).toFixed(3), (bare / 1000 / audio).toFixed(3), (provider / bare).toFixed(2)]);
const head = ['recording', 'seconds', 'WER', 'RTF (provider)', 'RTF (bare decoder)', 'provider / bare'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log([line(head), ...rows.map(line)].join('\n'));
console.log(`\nword error rate ${((errors / words) * 100).toFixed(1)}% over ${words} reference words; real-time factor ${(provider / 1000 / audio).toFixed(3)} (bare decoder ${(bare / 1000 / audio).toFixed(3)})`);
