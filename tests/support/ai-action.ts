// Runs an AI action's run() the way the worker does (parameters validated with defaults, output
// checked against the action's outputSchema), with a registry built from configuration: tests aim
// it at the fake provider server through the same variables production uses.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActionRegistry } from '#domain/actions/registry.js';
import type { ActionDefinition, ActionOutput } from '#domain/actions/types.js';
import { createAiProviders } from '../../lib/ai/index.js';
import { createAjv } from '../../lib/ajv.js';
import { loadConfig } from '../../lib/config.js';
import { testFfmpeg } from './ffmpeg.js';

type JsonOutput = Extract<ActionOutput, { type: 'json' }> & { data: Record<string, any> };

const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return this; } } as never;

export function aiActionRunner(action: ActionDefinition<any>) {
  const registry = createActionRegistry([action as ActionDefinition]);
  const validateOutput = createAjv().compile(action.outputSchema);
  const dirs: string[] = [];
  return {
    async run(input: Buffer, params: Record<string, unknown>, opts: { env?: Record<string, string>; mimeType: string }): Promise<JsonOutput> {
      const dir = await mkdtemp(join(tmpdir(), `mf-${action.actionId}-`));
      dirs.push(dir);
      await writeFile(join(dir, 'input'), input);
      const p = { ...params };
      const problems = registry.validateParameters(action as ActionDefinition, p);
      if (problems.length) throw new Error(`test parameters are invalid: ${JSON.stringify(problems)}`);
      const out = await action.run({
        inputPath: join(dir, 'input'),
        inputMimeType: opts.mimeType,
        workDir: dir,
        params: p,
        limits: { image: { maxResolution: 8192 }, audio: { maxDurationSeconds: 3600 } },
        progress: () => undefined,
        signal: new AbortController().signal,
        logger: silent,
        ai: createAiProviders(loadConfig(opts.env ?? {}).ai, registry.aiDefaults()),
        ffmpeg: testFfmpeg,
      });
      if (out.type !== 'json') throw new Error(`expected a json result, got ${out.type}`);
      // Results travel through Temporal and Postgres as JSON.
      expect(JSON.parse(JSON.stringify(out.data))).toEqual(out.data);
      expect(validateOutput(out.data) ? [] : validateOutput.errors).toEqual([]);
      return out as JsonOutput;
    },
    problems(params: Record<string, unknown>) {
      return registry.validateParameters(action as ActionDefinition, { ...params }).map((e) => e.field);
    },
    async cleanup() {
      await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}
