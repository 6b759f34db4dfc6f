// Runs an action plugin's run() the way the worker does (parameters validated, defaults applied),
// on bytes written to a private directory, and checks JSON results against the action's outputSchema.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActionRegistry } from '#domain/actions/registry.js';
import type { AiRegistry } from '#lib/ai/ports.js';
import type { ActionDefinition, ActionOutput } from '#domain/actions/types.js';
import { createAiRegistry } from '../../lib/ai/registry.js';
import { createAjv } from '../../lib/ajv.js';
import { testFfmpeg } from './ffmpeg.js';

const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return this; } } as never;

export interface ActionRunner {
  /** Parameter problems (field names) as the API would report them; `params` gets its defaults. */
  problems(params: Record<string, unknown>): string[];
  run(input: Buffer, params: Record<string, unknown>, opts?: { maxResolution?: number; ai?: AiRegistry; mimeType?: string }): Promise<ActionOutput>;
  /** Runs, expects a JSON result, and asserts it matches the action's own outputSchema. */
  runJson(input: Buffer, params: Record<string, unknown>, opts?: { maxResolution?: number; ai?: AiRegistry }): Promise<Record<string, any>>;
  /** Output-schema violations of `data`, as ajv messages. */
  outputProblems(data: unknown): string[];
  cleanup(): Promise<void>;
}

export function actionRunner(action: ActionDefinition<any>): ActionRunner {
  const registry = createActionRegistry([action as ActionDefinition]);
  const validateOutput = createAjv().compile(action.outputSchema);
  const dirs: string[] = [];
  const problems = (params: Record<string, unknown>) => registry.validateParameters(action as ActionDefinition, params).map((e) => e.field);
  const outputProblems = (data: unknown) =>
    validateOutput(data) ? [] : (validateOutput.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  const runner: ActionRunner = {
    problems,
    outputProblems,
    async run(input, params, opts = {}) {
      const dir = await mkdtemp(join(tmpdir(), `mf-${action.actionId}-`));
      dirs.push(dir);
      const inputPath = join(dir, 'input');
      await writeFile(inputPath, input);
      const p = { ...params };
      const invalid = problems(p);
      if (invalid.length) throw new Error(`test parameters are invalid: ${invalid.join(', ')}`);
      return action.run({
        inputPath,
        inputMimeType: opts.mimeType ?? 'image/jpeg',
        workDir: dir,
        params: p,
        limits: { image: { maxResolution: opts.maxResolution ?? 8192 }, audio: { maxDurationSeconds: 3600 } },
        progress: () => undefined,
        signal: new AbortController().signal,
        logger: silent,
        ai: opts.ai ?? createAiRegistry([]),
        ffmpeg: testFfmpeg,
      });
    },
    async runJson(input, params, opts) {
      const out = await runner.run(input, params, opts);
      if (out.type !== 'json') throw new Error(`expected a json result, got ${out.type}`);
      // Results travel through Temporal and Postgres as JSON: what survives that is what counts.
      const data = JSON.parse(JSON.stringify(out.data)) as Record<string, any>;
      expect(data).toEqual(out.data);
      // Postgres jsonb refuses NUL characters.
      expect(JSON.stringify(data)).not.toContain('\\u0000');
      expect(outputProblems(data)).toEqual([]);
      return data;
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
