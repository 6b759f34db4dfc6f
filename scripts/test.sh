#!/usr/bin/env bash
# `npm test`: installs what is missing (once), then runs Jest (global setup starts Temporal + MinIO).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
exec node --experimental-vm-modules node_modules/jest/bin/jest.js "$@"
