# shellcheck shell=bash
# Sourced by scripts/start.sh and scripts/test.sh: `source scripts/bootstrap.sh`.
# Makes sure everything the project needs is present, installing what is missing (once):
#   1. Node 24 on PATH (downloaded from the npm registry as node-linux-<arch> when absent)
#   2. node_modules in sync with package-lock.json (npm ci)
#   3. system packages: ffmpeg, tesseract (+ English data), pocketsphinx (+ US English model, test
#      recordings), espeak-ng, DejaVu fonts (apt-get when root)
#   4. the Temporal CLI (dev server), MinIO and Helm binaries (built once with `go install`)
# Idempotent and fast (well under 2 s) when everything is already there.
# MEDIAFLOW_NO_SERVICES=1 skips step 4 (`npm run test:unit` needs no Temporal or MinIO).
# Works under `set -euo pipefail` in the caller. Exports PATH, MEDIAFLOW_CACHE, MEDIAFLOW_BIN_DIR,
# TEMPORAL_BIN, MINIO_BIN and HELM_BIN.

MEDIAFLOW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MEDIAFLOW_CACHE="${MEDIAFLOW_CACHE:-$HOME/.cache/mediaflow}"
MEDIAFLOW_BIN_DIR="$MEDIAFLOW_CACHE/bin"
export MEDIAFLOW_ROOT MEDIAFLOW_CACHE MEDIAFLOW_BIN_DIR

_MF_NODE_VERSION="24.21.0"
_MF_TEMPORAL_PKG="github.com/temporalio/cli/cmd/temporal@v1.5.1"
_MF_MINIO_PKG="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
# The chart tests run helm lint/template; v3.19.5 builds with Go >= 1.24 and has no replace directives.
_MF_HELM_PKG="helm.sh/helm/v3/cmd/helm@v3.19.5"

_mf_log() { echo "[setup] $*" >&2; }
_mf_die() { echo "$*" >&2; exit 1; }

# Runs "$@" under an exclusive lock when flock exists (concurrent npm start / npm test / npm install).
_mf_locked() {
  local lock="$1"; shift
  if command -v flock >/dev/null 2>&1; then
    flock "$lock" "$@"
  else
    "$@"
  fi
}

_mf_node_is_24() {
  local v
  v="$("$1" --version 2>/dev/null)" || return 1
  case "$v" in v24.*) return 0 ;; *) return 1 ;; esac
}

_mf_ensure_node() {
  if command -v node >/dev/null 2>&1 && _mf_node_is_24 node; then
    return 0
  fi
  local dir="$MEDIAFLOW_CACHE/node"
  if [ ! -x "$dir/bin/node" ] || ! _mf_node_is_24 "$dir/bin/node"; then
    local arch
    case "$(uname -m)" in
      x86_64 | amd64) arch=x64 ;;
      aarch64 | arm64) arch=arm64 ;;
      *) _mf_die "unsupported CPU architecture $(uname -m): install Node.js 24 yourself and put it first on PATH" ;;
    esac
    command -v npm >/dev/null 2>&1 ||
      _mf_die "missing npm: install Node.js 24 (https://nodejs.org) or any Node.js with npm (\"sudo apt-get install -y npm\")"
    _mf_log "downloading Node.js $_MF_NODE_VERSION (once, cached in $dir)"
    local tmp
    tmp="$(mktemp -d)"
    if ! (cd "$tmp" && npm pack --silent "node-linux-$arch@$_MF_NODE_VERSION" >/dev/null && tar -xzf ./*.tgz); then
      rm -rf "$tmp"
      _mf_die "could not download node-linux-$arch@$_MF_NODE_VERSION from the npm registry"
    fi
    mkdir -p "$dir/bin"
    install -m 0755 "$tmp/package/bin/node" "$dir/bin/node.tmp.$$"
    mv -f "$dir/bin/node.tmp.$$" "$dir/bin/node"
    rm -rf "$tmp"
    _mf_node_is_24 "$dir/bin/node" || _mf_die "the downloaded Node.js in $dir/bin does not run"
  fi
  PATH="$dir/bin:$PATH"
  export PATH
}

_mf_ensure_node_modules() {
  local lock="$MEDIAFLOW_ROOT/package-lock.json"
  local stamp="$MEDIAFLOW_ROOT/node_modules/.mediaflow-ci-stamp"
  local hidden="$MEDIAFLOW_ROOT/node_modules/.package-lock.json"
  local want
  want="$(cksum <"$lock")"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  # node_modules already matches (e.g. after `npm install <pkg>`, which rewrites both lock files).
  if [ -f "$hidden" ] && ! [ "$lock" -nt "$hidden" ]; then
    echo "$want" >"$stamp"
    return 0
  fi
  _mf_log "installing npm dependencies (npm ci)"
  mkdir -p "$MEDIAFLOW_CACHE/logs"
  # npm ci only: it installs exactly the committed lock file and never rewrites it (the lock records
  # every platform's optional packages, so it is accepted on any machine).
  if ! (cd "$MEDIAFLOW_ROOT" && _mf_locked /tmp/mediaflow-npm.lock npm ci --no-audit --no-fund --loglevel=error) \
    >"$MEDIAFLOW_CACHE/logs/npm-ci.log" 2>&1; then
    tail -n 20 "$MEDIAFLOW_CACHE/logs/npm-ci.log" >&2
    _mf_die "npm ci failed (full log: $MEDIAFLOW_CACHE/logs/npm-ci.log); if package.json changed, run \"npm install\" and commit package-lock.json"
  fi
  want="$(cksum <"$lock")"
  echo "$want" >"$stamp"
}

# System packages from apt: ffmpeg/ffprobe (audio actions), tesseract with English data (local
# OCR), PocketSphinx with its US English model (local transcription), the LibriVox recordings of
# pocketsphinx-testdata and espeak-ng (transcription tests and benchmark), the DejaVu fonts the OCR
# tests render text with, curl, and Chromium (the console's browser tests drive it through
# playwright-core; no browser is ever downloaded).
_mf_missing_system_packages() {
  command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || echo ffmpeg
  command -v tesseract >/dev/null 2>&1 || echo tesseract-ocr
  { command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx eng; } || echo tesseract-ocr-eng
  { command -v fc-list >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi dejavu; } || echo fonts-dejavu-core
  command -v curl >/dev/null 2>&1 || echo curl # the upload benchmark's multipart client
  command -v pocketsphinx_continuous >/dev/null 2>&1 || echo pocketsphinx
  [ -f /usr/share/pocketsphinx/model/en-us/en-us.lm.bin ] || echo pocketsphinx-en-us
  [ -d /usr/share/pocketsphinx/test/data/librivox ] || echo pocketsphinx-testdata
  command -v espeak-ng >/dev/null 2>&1 || echo espeak-ng
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || echo chromium
}

_mf_ensure_system_packages() {
  local missing
  missing="$(_mf_missing_system_packages | tr '\n' ' ')"
  missing="${missing% }"
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    _mf_die "missing system packages: run \"sudo apt-get install -y $missing\""
  fi
  command -v apt-get >/dev/null 2>&1 || _mf_die "missing system packages: install $missing with your package manager"
  _mf_log "installing $missing (apt-get, once)"
  # shellcheck disable=SC2086 # one word per package
  { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; } ||
    _mf_die "could not install $missing: run \"apt-get install -y $missing\""
}

_mf_find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [ -x /usr/local/go/bin/go ]; then
    echo /usr/local/go/bin/go
  elif [ -x "$HOME/go/bin/go" ]; then
    echo "$HOME/go/bin/go"
  elif [ -x "$HOME/sdk/go/bin/go" ]; then
    echo "$HOME/sdk/go/bin/go"
  else
    return 1
  fi
}

# _mf_build NAME GO-PACKAGE ENV-PREFIX "DISPLAY NAME"
_mf_build() {
  local name="$1" pkg="$2" envname="$3" label="$4"
  [ -x "$MEDIAFLOW_BIN_DIR/$name" ] && return 0
  local goarch
  case "$(uname -m)" in aarch64 | arm64) goarch=arm64 ;; *) goarch=amd64 ;; esac
  local hint="install Go >= 1.24 (e.g. https://go.dev/dl/go1.26.0.linux-$goarch.tar.gz unpacked into /usr/local, or the same toolchain from the Go module proxy: https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go1.26.0.linux-$goarch.zip) so that /usr/local/go/bin/go or 'go' on PATH works, then re-run; or set ${envname}_BIN to an existing $name binary"
  local go
  go="$(_mf_find_go)" || _mf_die "missing Go: the $label is built from source once and needs Go >= 1.24: $hint"
  local gov major rest minor
  gov="$("$go" env GOVERSION 2>/dev/null)" || gov=""
  gov="${gov#go}"
  major="${gov%%.*}"
  rest="${gov#*.}"
  minor="${rest%%[!0-9]*}"
  case "$major:$minor" in
    *[!0-9:]* | :* | *:) _mf_die "cannot tell the version of Go at $go (${gov:-unknown}): $hint" ;;
  esac
  if [ "$major" -lt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -lt 24 ]; }; then
    _mf_die "Go at $go is too old (go$gov): $hint"
  fi
  mkdir -p "$MEDIAFLOW_BIN_DIR" "$MEDIAFLOW_CACHE/logs"
  local log="$MEDIAFLOW_CACHE/logs/build-$name.log"
  _mf_log "building $label (once, cached in $MEDIAFLOW_BIN_DIR; takes several minutes; log: $log)"
  # The lock keeps a concurrent bootstrap (npm start + npm test) from building the same thing twice.
  if ! _mf_locked "$MEDIAFLOW_CACHE/build-$name.lock" bash -c '
        [ -x "$1/$2" ] && exit 0
        GOTOOLCHAIN=local GOBIN="$1" "$3" install "$4"' _ "$MEDIAFLOW_BIN_DIR" "$name" "$go" "$pkg" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    _mf_die "building the $label failed (full log: $log)"
  fi
  [ -x "$MEDIAFLOW_BIN_DIR/$name" ] || _mf_die "building the $label produced no binary in $MEDIAFLOW_BIN_DIR"
  _mf_log "built $MEDIAFLOW_BIN_DIR/$name"
}

_mf_ensure_binaries() {
  if [ -n "${TEMPORAL_BIN:-}" ]; then
    [ -x "$TEMPORAL_BIN" ] || _mf_die "TEMPORAL_BIN=$TEMPORAL_BIN is not an executable file"
  else
    _mf_build temporal "$_MF_TEMPORAL_PKG" TEMPORAL "Temporal CLI"
    TEMPORAL_BIN="$MEDIAFLOW_BIN_DIR/temporal"
  fi
  if [ -n "${MINIO_BIN:-}" ]; then
    [ -x "$MINIO_BIN" ] || _mf_die "MINIO_BIN=$MINIO_BIN is not an executable file"
  else
    _mf_build minio "$_MF_MINIO_PKG" MINIO "MinIO server"
    MINIO_BIN="$MEDIAFLOW_BIN_DIR/minio"
  fi
  if [ -n "${HELM_BIN:-}" ]; then
    [ -x "$HELM_BIN" ] || _mf_die "HELM_BIN=$HELM_BIN is not an executable file"
  else
    _mf_build helm "$_MF_HELM_PKG" HELM "Helm CLI"
    HELM_BIN="$MEDIAFLOW_BIN_DIR/helm"
  fi
  export TEMPORAL_BIN MINIO_BIN HELM_BIN
}

_mf_ensure_node
_mf_ensure_node_modules
_mf_ensure_system_packages
[ "${MEDIAFLOW_NO_SERVICES:-}" = 1 ] || _mf_ensure_binaries
