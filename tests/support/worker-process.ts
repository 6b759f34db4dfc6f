// A real worker process (worker/main.ts) for a harness's task queues: what `npm start` runs, so
// that a test can kill it with SIGKILL and a benchmark measures the worker apart from the API.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundleOptions } from '#worker/bundle.js';
import type { Harness } from './harness.js';

const root = path.resolve(import.meta.dirname, '../..');
const noop = () => undefined;
/** A bundler logger that says nothing. */
export const quiet = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

/** Writes the workflow bundle once, so each spawned worker starts in a second rather than bundling. */
export async function writeWorkflowBundle(file: string): Promise<string> {
  const { code } = await bundleWorkflowCode({ ...bundleOptions({ traced: false }), logger: quiet });
  await writeFile(file, code);
  return file;
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Output so far (stdout and stderr). */
  output(): string;
  /** Resolves once the worker logs that it polls. */
  ready: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnWorker(h: Harness, opts: { bundlePath: string; env?: Record<string, string> }): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      API_BASE_URL: h.config.http.publicUrl,
      TEMPORAL_TASK_QUEUE: h.config.temporal.taskQueue,
      WORKFLOW_BUNDLE_PATH: opts.bundlePath,
      WORKER_METRICS_PORT: '0',
      TEMPORAL_METRICS_BIND: '',
      ...opts.env,
      // Readiness is its `worker polling` line.
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('worker polling')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before polling:\n${out.slice(-4000)}`)));
  });
  ready.catch(noop);
  return {
    child,
    output: () => out,
    ready,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}
