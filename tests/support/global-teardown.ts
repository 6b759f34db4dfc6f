// Jest globalTeardown: stops what global-setup.ts started and removes its data directory
// (kept when KEEP_TEST_DATA=1, e.g. to read <dir>/logs/*.log).
import fs from 'node:fs';
// Type-only: Jest loads these files as CommonJS, where a runtime `./global-setup.js` import would not resolve.
import type { TestServicesHandle } from './global-setup.js';

function keepTestData(): boolean {
  const v = process.env.KEEP_TEST_DATA;
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

export default async function globalTeardown(): Promise<void> {
  const handle = (globalThis as { __MEDIAFLOW_TEST_SERVICES__?: TestServicesHandle }).__MEDIAFLOW_TEST_SERVICES__;
  if (!handle) return;
  globalThis.__MEDIAFLOW_TEST_SERVICES__ = undefined;
  await handle.services.stop();
  if (keepTestData()) {
    console.log(`\n[test-teardown] kept test data in ${handle.dataDir}`);
  } else {
    fs.rmSync(handle.dataDir, { recursive: true, force: true });
  }
}
