// The one test runner for action plugins: runs an action's run() the way the worker does
// (parameters validated, defaults applied), on bytes written to a private directory or on a file
// already made, and checks every JSON result as the worker's path would carry it (through Temporal
// and Postgres as JSON) and against the action's own outputSchema. AI actions get the providers
// configuration builds from `env` (with the action's declared default provider), so tests aim the
// real SDKs at the fake provider server through the variables production uses.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { createActionRegistry } from '#domain/actions/registry.js';
import type { AiRegistry } from '#lib/ai/ports.js';
import type { ActionDefinition, ActionOutput } from '#domain/actions/types.js';
import { createAiProviders } from '#lib/ai/index.js';
import { createAiRegistry } from '#lib/ai/registry.js';
import { createAjv } from '#lib/ajv.js';
import { loadConfig } from '#lib/config.js';
import { testFfmpeg } from './ffmpeg.js';

const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return this; } } as never;

/** Media types by file extension, for inputs given as a path. */
export const MIME_TYPES: Record<string, string> = {
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  m4a: 'audio/mp4',
  webm: 'audio/webm',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
};

export interface RunOptions {
  /** Default: by the input path's extension; image/jpeg for bytes. */
  mimeType?: string;
  maxResolution?: number;
  maxDurationSeconds?: number;
  signal?: AbortSignal;
  onProgress?(fraction: number): void;
  /** The AI providers; default: those configuration builds from `env`, or none without `env`. */
  ai?: AiRegistry;
  /** Environment to build the AI providers from, as the worker does (e.g. the fake server's). */
  env?: Record<string, string>;
}

export type RunOutput = ActionOutput & { workDir: string };
export type JsonOutput = Extract<ActionOutput, { type: 'json' }> & { data: Record<string, any>; workDir: string };

export interface ActionRunner {
  /** Parameter problems (field names) as the API would report them; `params` gets its defaults. */
  problems(params: Record<string, unknown>): string[];
  /** Runs on `input`: bytes, or the path of a file to read. JSON results are checked. */
  run(input: Buffer | string, params: Record<string, unknown>, opts?: RunOptions): Promise<RunOutput>;
  /** Runs, expects a JSON result (checked), and gives its data. */
  runJson(input: Buffer | string, params: Record<string, unknown>, opts?: RunOptions): Promise<Record<string, any>>;
  /** Runs, expects a JSON result (checked), and gives it whole: data and usage. */
  runJsonOutput(input: Buffer | string, params: Record<string, unknown>, opts?: RunOptions): Promise<JsonOutput>;
  /** Output-schema violations of `data`, as ajv messages. */
  outputProblems(data: unknown): string[];
  /** The work directory of the latest run, also when it failed. */
  lastWorkDir(): string;
  cleanup(): Promise<void>;
}

export function actionRunner(action: ActionDefinition<any>): ActionRunner {
  const registry = createActionRegistry([action as ActionDefinition]);
  const validateOutput = createAjv().compile(action.outputSchema);
  const dirs: string[] = [];
  let lastWorkDir = '';
  const problems = (params: Record<string, unknown>) => registry.validateParameters(action as ActionDefinition, params).map((e) => e.field);
  const outputProblems = (data: unknown) =>
    validateOutput(data) ? [] : (validateOutput.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  const runner: ActionRunner = {
    problems,
    outputProblems,
    lastWorkDir: () => lastWorkDir,
    async run(input, params, opts = {}) {
      const dir = await mkdtemp(join(tmpdir(), `mf-${action.actionId}-`));
      dirs.push(dir);
      lastWorkDir = dir;
      let inputPath: string;
      if (typeof input === 'string') inputPath = input;
      else {
        inputPath = join(dir, 'input');
        await writeFile(inputPath, input);
      }
      const p = { ...params };
      const invalid = problems(p);
      if (invalid.length) throw new Error(`test parameters are invalid: ${invalid.join(', ')}`);
      const ai = opts.ai ?? (opts.env ? createAiProviders(loadConfig(opts.env).ai, registry.aiDefaults()) : createAiRegistry([]));
      const out = await action.run({
        inputPath,
        inputMimeType: opts.mimeType ?? (typeof input === 'string' ? (MIME_TYPES[extname(input).slice(1)] ?? 'application/octet-stream') : 'image/jpeg'),
        workDir: dir,
        params: p,
        limits: { image: { maxResolution: opts.maxResolution ?? 8192 }, audio: { maxDurationSeconds: opts.maxDurationSeconds ?? 3600 } },
        progress: opts.onProgress ?? (() => undefined),
        signal: opts.signal ?? new AbortController().signal,
        logger: silent,
        ai,
        ffmpeg: testFfmpeg,
      });
      if (out.type === 'json') {
        // Results travel through Temporal and Postgres as JSON: what survives that is what counts.
        expect(JSON.parse(JSON.stringify(out.data))).toEqual(out.data);
        // Postgres jsonb refuses NUL characters.
        expect(JSON.stringify(out.data)).not.toContain('\\u0000');
        expect(outputProblems(out.data)).toEqual([]);
      }
      return { ...out, workDir: dir };
    },
    async runJsonOutput(input, params, opts) {
      const out = await runner.run(input, params, opts);
      if (out.type !== 'json') throw new Error(`expected a json result, got ${out.type}`);
      return out as JsonOutput;
    },
    async runJson(input, params, opts) {
      return JSON.parse(JSON.stringify((await runner.runJsonOutput(input, params, opts)).data)) as Record<string, any>;
    },
    async cleanup() {
      await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
    },
  };
  return runner;
}

/** Every optional parameter has a default and every required one an example. */
export function expectFormReady(action: ActionDefinition<any>): void {
  const schema = action.parametersSchema as { required?: string[]; properties: Record<string, Record<string, unknown>> };
  const required = new Set(schema.required ?? []);
  for (const [name, prop] of Object.entries(schema.properties)) {
    if (required.has(name) || !('default' in prop)) {
      expect({ name, examples: prop.examples }).toEqual({ name, examples: expect.arrayContaining([expect.anything()]) });
    }
    expect({ name, description: typeof prop.description }).toEqual({ name, description: 'string' });
  }
}
