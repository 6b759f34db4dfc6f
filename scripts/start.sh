#!/usr/bin/env bash
# `npm start`: installs what is missing (once), then runs Postgres/Temporal/MinIO + API + worker.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
exec node --import tsx scripts/dev.ts "$@"
