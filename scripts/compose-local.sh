#!/usr/bin/env bash
# Run Gantry's docker-compose stack where no container registry is reachable (design.md,
# Deployment): docker-compose.yml plus docker-compose.local.yml, every image built from the
# Debian base, with Debian's docker-compose v1.29 (or `docker compose` v2 when present).
#
# Usage: bash scripts/compose-local.sh COMMAND [ARGS...]
#   up [ARGS]     prepare the build contexts, then `up -d --build ARGS`
#   build [ARGS]  prepare the build contexts, then `build ARGS`
#   prepare       only prepare (deploy/.build/app and the base/runtime images)
#   down [ARGS]   `down ARGS` (e.g. `down -v` also drops the Postgres and Redis volumes)
#   token         print the admin token the control plane generated at first start
#   *             any other docker-compose command with the same -f files (ps, logs, config, ...)
#
# What `prepare` does on the host (nothing is pulled from a registry):
#   - builds gantry/debian-base:bookworm and the runtime images (nodejs20, python3.11, provided) with
#     `scripts/build-images.sh --local` when any is missing;
#   - assembles deploy/.build/app: the host's Node 20 binary, the app compiled with the host's
#     npm/tsc, production node_modules (npm ci --omit=dev; the npm registry is reached from the
#     host, whose proxies/CAs build containers may not share), migrations/, and Dockerfile.local;
#   - creates GANTRY_DATA_DIR (default /var/lib/gantry) on the host.
# Environment: COMPOSE_PROJECT_NAME (default "gantry"), GANTRY_COMPOSE_TIMEOUT_S (bound on each
# compose/npm step, default 1800), and everything docker-compose.yml reads (ports, tokens, ...).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/deploy/.build"
STEP_TIMEOUT_S="${GANTRY_COMPOSE_TIMEOUT_S:-1800}"
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-gantry}"

log() { echo "compose-local: $*" >&2; }
die() {
  echo "compose-local: ERROR: $*" >&2
  exit 1
}

compose_cmd() {
  if command -v docker-compose >/dev/null 2>&1; then
    echo docker-compose
  elif docker compose version >/dev/null 2>&1; then
    echo "docker compose"
  else
    return 1
  fi
}

compose() {
  local c
  c="$(compose_cmd)" || die "neither docker-compose nor the docker compose plugin is installed (npm run services installs docker-compose)"
  # shellcheck disable=SC2086
  (cd "$ROOT" && timeout --foreground "$STEP_TIMEOUT_S" $c -f docker-compose.yml -f docker-compose.local.yml "$@")
}

# sha256 of the files that decide the content of node_modules, plus the Node version.
deps_stamp() {
  { cat "$ROOT/package.json" "$ROOT/package-lock.json"; node --version; } | sha256sum | cut -d' ' -f1
}

prepare_images() {
  docker info >/dev/null 2>&1 || die "docker engine not reachable (start it with: npm run services)"
  local image missing=0
  for image in gantry/debian-base:bookworm gantry/nodejs20:latest gantry/python3.11:latest gantry/provided:latest; do
    docker image inspect "$image" >/dev/null 2>&1 || missing=1
  done
  if ((missing == 0)); then
    log "the Debian base and the runtime images are present (rebuild: npm run images -- --local)"
    return 0
  fi
  log "building the Debian base and runtime images: scripts/build-images.sh --local"
  bash "$ROOT/scripts/build-images.sh" --local
}

# Compiles the app and installs production dependencies under deploy/.build, reusing the
# installed node_modules while package.json, package-lock.json and the Node version are unchanged.
prepare_app() {
  local node_bin version
  node_bin="$(command -v node)" || die "no host 'node' found; the local app image copies the host's Node 20"
  node_bin="$(readlink -f "$node_bin")"
  version="$("$node_bin" --version)"
  [[ "$version" == v20.* ]] || die "host node at $node_bin is $version; Gantry needs Node 20"
  if ldd "$node_bin" 2>/dev/null | grep -q 'not found'; then
    die "host node at $node_bin has unresolved libraries"
  fi
  command -v npm >/dev/null 2>&1 || die "no host 'npm' found (needed to install the app's dependencies)"

  local src="$BUILD/src" app="$BUILD/app" stamp
  stamp="$(deps_stamp)"
  mkdir -p "$src" "$app"

  # Sources: replaced whole each time (a deleted .ts file must not linger in dist/).
  rm -rf "$src/common" "$src/control-plane" "$src/gateway" "$src/single-process" "$src/main.ts" "$src/dist"
  cp "$ROOT/package.json" "$ROOT/package-lock.json" "$ROOT/tsconfig.json" "$ROOT/main.ts" "$src/"
  cp -R "$ROOT/common" "$ROOT/control-plane" "$ROOT/gateway" "$ROOT/single-process" "$src/"

  if [[ "$(cat "$src/.deps-stamp" 2>/dev/null)" != "$stamp" || ! -d "$src/node_modules" ]]; then
    log "npm ci (all dependencies, to compile) in deploy/.build/src"
    rm -f "$src/.deps-stamp"
    (cd "$src" && timeout "$STEP_TIMEOUT_S" npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $src"
    echo "$stamp" >"$src/.deps-stamp"
  fi
  log "compiling (tsc) in deploy/.build/src"
  (cd "$src" && timeout "$STEP_TIMEOUT_S" npm run --silent build) || die "tsc failed in $src"

  if [[ "$(cat "$app/.deps-stamp" 2>/dev/null)" != "$stamp" || ! -d "$app/node_modules" ]]; then
    log "npm ci --omit=dev (production dependencies) in deploy/.build/app"
    rm -rf "$app/node_modules" "$app/.deps-stamp"
    cp "$ROOT/package.json" "$ROOT/package-lock.json" "$app/"
    (cd "$app" && timeout "$STEP_TIMEOUT_S" npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) ||
      die "npm ci --omit=dev failed in $app"
    echo "$stamp" >"$app/.deps-stamp"
  fi
  cp "$ROOT/package.json" "$ROOT/package-lock.json" "$app/"
  rm -rf "$app/dist" "$app/migrations"
  cp -R "$src/dist" "$app/dist"
  cp -R "$ROOT/migrations" "$app/migrations"
  cp "$ROOT/Dockerfile.local" "$app/Dockerfile"
  printf '.deps-stamp\n' >"$app/.dockerignore"
  # cmp first: an unchanged binary keeps its mtime and the image layer cache.
  if ! cmp -s "$node_bin" "$app/node"; then
    cp "$node_bin" "$app/node"
  fi
  chmod 0755 "$app/node"
  log "deploy/.build/app ready (node $version)"
}

prepare_data_dir() {
  local dir="${GANTRY_DATA_DIR:-/var/lib/gantry}"
  [[ "$dir" == /* ]] || die "GANTRY_DATA_DIR must be an absolute path (it is the same inside and outside the control plane's container)"
  mkdir -p "$dir" || die "cannot create $dir (run as root, or set GANTRY_DATA_DIR)"
}

prepare() {
  prepare_images
  prepare_app
  prepare_data_dir
}

cmd="${1:-}"
[[ -n "$cmd" ]] || {
  sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}
shift
case "$cmd" in
  -h | --help)
    sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    ;;
  prepare)
    prepare
    ;;
  build)
    prepare
    compose build "$@"
    ;;
  up)
    prepare
    compose up -d --build "$@"
    log "stack '$COMPOSE_PROJECT_NAME' is up; the admin token (first start only): bash scripts/compose-local.sh token"
    ;;
  token)
    compose logs --no-color control-plane 2>/dev/null |
      sed -n 's/.*Gantry admin token (shown once, store it now): \([A-Za-z0-9_-]*\).*/\1/p' | tail -n 1 | grep . ||
      die "no generated admin token in the control plane's log (it is printed only at first start, or GANTRY_ADMIN_TOKEN is set)"
    ;;
  *)
    compose "$cmd" "$@"
    ;;
esac
