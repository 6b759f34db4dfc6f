#!/bin/sh
# Container entrypoint for the mediaflow image (runs under tini, see deploy/Dockerfile).
#   api      -> HTTP API            (node dist/api/main.js)
#   worker   -> Temporal worker     (node dist/worker/main.js)
#   migrate  -> apply DB migrations (node dist/entities/migrate.js), then exit
#   rewrap   -> rewrap stored objects under the primary STORAGE_MASTER_KEYS key
#               (node dist/scripts/storage-rewrap.js [--prefix orgs/<id>/]), then exit
#   admin    -> grant, revoke or list platform administration
#               (node dist/scripts/platform-admin.js grant|revoke <email or user id> | list), then exit
# Anything else is exec'd as given, e.g. `docker run --rm mediaflow:latest node -v`.
# `exec` replaces this shell so signals from tini reach node directly.
set -eu

APP_DIR="${APP_DIR:-/app}"
cd "$APP_DIR"

if [ "$#" -eq 0 ]; then
  set -- api
fi

case "$1" in
  api)
    shift
    exec node dist/api/main.js "$@"
    ;;
  worker)
    shift
    export WORKFLOW_BUNDLE_PATH="${WORKFLOW_BUNDLE_PATH:-$APP_DIR/dist/workflow-bundle.js}"
    exec node dist/worker/main.js "$@"
    ;;
  migrate)
    shift
    exec node dist/entities/migrate.js "$@"
    ;;
  rewrap)
    shift
    exec node dist/scripts/storage-rewrap.js "$@"
    ;;
  admin)
    shift
    exec node dist/scripts/platform-admin.js "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
