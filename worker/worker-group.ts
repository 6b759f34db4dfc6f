import type { Worker } from '@temporalio/worker';

/** Something the worker process runs beside its Workers (started with them, stopped with them). */
export interface Background {
  start(): void;
  stop(): Promise<void>;
}

/**
 * The worker process's Workers (one per task queue) run and shut down together: run() resolves
 * once every Worker has stopped, and a Worker that fails stops the others.
 */
export class WorkerGroup {
  constructor(
    readonly workers: Worker[],
    private readonly background: Background[] = [],
  ) {}

  async run(): Promise<void> {
    for (const b of this.background) b.start();
    try {
      await Promise.all(
        this.workers.map((w) =>
          w.run().catch((err: unknown) => {
            this.shutdown();
            throw err;
          }),
        ),
      );
    } finally {
      await Promise.all(this.background.map((b) => b.stop()));
    }
  }

  shutdown(): void {
    for (const w of this.workers) {
      if (w.getState() === 'RUNNING') w.shutdown();
    }
  }
}
