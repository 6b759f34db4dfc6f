// Writes the prebuilt workflow bundles that production workers load: the plain one at
// WORKFLOW_BUNDLE_PATH, and beside it the one a worker exporting traces loads (worker/bundle.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundleOptions, tracedBundlePath } from '#worker/bundle.js';

const plain = resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
await mkdir(dirname(plain), { recursive: true });
for (const [out, traced] of [[plain, false], [tracedBundlePath(plain), true]] as const) {
  const { code } = await bundleWorkflowCode(bundleOptions({ traced }));
  await writeFile(out, code);
  console.log(`workflow bundle${traced ? ' (traced)' : ''}: ${out} (${Math.round(code.length / 1024)} KiB)`);
}
