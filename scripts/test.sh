#!/usr/bin/env bash
# `npm test`: installs what is missing (once), then the web console's component tests (Vitest) and
# Jest (global setup starts Temporal + MinIO). Arguments go to Jest, and skip the Vitest run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
if [ "$#" -eq 0 ]; then
  node node_modules/vitest/vitest.mjs run --root web
fi
# One Jest worker runs every file in turn (maxWorkers 1: the suites share Temporal and MinIO), replaced
# when its heap grows past jest.config.js's workerIdleMemoryLimit; the heap flag gives room beyond V8's
# ~4 GB default to the runner and to that worker (it inherits the flags).
exec node --max-old-space-size=12288 --experimental-vm-modules node_modules/jest/bin/jest.js "$@"
