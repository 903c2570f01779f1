#!/usr/bin/env bash
# Smoke test of the docker-compose stack: bring it up, do the README walkthrough against it
# (function from a zip, API `demo`, route `GET /hello/{name}`, a call through the gateway), then
# `down -v` and check that none of its function containers (label gantry.managed=true) remain.
# Needs bash, curl, python3 (to build the zip) and docker; every wait has a deadline.
#
# Usage: bash scripts/compose-smoke.sh [--local|--registry] [--keep] [--no-up]
#   --local      docker-compose.yml + docker-compose.local.yml through scripts/compose-local.sh
#                (images from the Debian base, no registry); the default when the Compose v2
#                plugin is missing
#   --registry   plain `docker compose` (v2) or `docker-compose` with docker-compose.yml only
#   --keep       leave the stack running at the end (default: down -v)
#   --no-up      use a stack that is already up (same COMPOSE_PROJECT_NAME and env)
# Environment:
#   COMPOSE_PROJECT_NAME             default gantry-smoke (its volumes are dropped before and after)
#   GANTRY_CONTROL_PLANE_HOST_PORT   default 9000, or a free port when 9000 is taken
#   GANTRY_GATEWAY_HOST_PORT         default 8080, or a free port when 8080 is taken
#   GANTRY_NODE_ID                   default compose-smoke-<pid> (labels its function containers)
#   GANTRY_ADMIN_TOKEN               unset by default: the smoke reads the generated one from the log
#   GANTRY_DATA_DIR                  default: a temporary directory, removed at the end
#   GANTRY_SMOKE_UP_TIMEOUT_S        bound on build + up (default 1800)
#   GANTRY_SMOKE_READY_TIMEOUT_S     bound on each readiness wait (default 180)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE=""
KEEP=0
DO_UP=1
for arg in "$@"; do
  case "$arg" in
    --local) MODE=local ;;
    --registry) MODE=registry ;;
    --keep) KEEP=1 ;;
    --no-up) DO_UP=0 ;;
    -h | --help)
      sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "compose-smoke: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

UP_TIMEOUT_S="${GANTRY_SMOKE_UP_TIMEOUT_S:-1800}"
READY_TIMEOUT_S="${GANTRY_SMOKE_READY_TIMEOUT_S:-180}"
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-gantry-smoke}"
export GANTRY_NODE_ID="${GANTRY_NODE_ID:-compose-smoke-$$}"
START_S=$SECONDS

log() { echo "compose-smoke: [$((SECONDS - START_S))s] $*" >&2; }
fail() {
  echo "compose-smoke: FAILED: $*" >&2
  exit 1
}

for tool in curl python3 docker; do
  command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is required"
done
docker info >/dev/null 2>&1 || fail "docker engine not reachable"

if [[ -z "$MODE" ]]; then
  if docker compose version >/dev/null 2>&1; then MODE=registry; else MODE=local; fi
fi

# compose ARGS...: the stack's compose command for the chosen mode, bounded in time.
compose() {
  if [[ "$MODE" == local ]]; then
    GANTRY_COMPOSE_TIMEOUT_S="$UP_TIMEOUT_S" bash "$ROOT/scripts/compose-local.sh" "$@"
  elif docker compose version >/dev/null 2>&1; then
    (cd "$ROOT" && timeout --foreground "$UP_TIMEOUT_S" docker compose -f docker-compose.yml "$@")
  else
    (cd "$ROOT" && timeout --foreground "$UP_TIMEOUT_S" docker-compose -f docker-compose.yml "$@")
  fi
}

# port_free PORT: nothing listens on 127.0.0.1:PORT or 0.0.0.0:PORT.
port_free() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("0.0.0.0", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])'
}

pick_port() {
  local var="$1" want="$2"
  if [[ -n "${!var:-}" ]]; then
    echo "${!var}"
  elif ((DO_UP == 0)) || port_free "$want"; then
    echo "$want"
  else
    free_port
  fi
}

CP_PORT="$(pick_port GANTRY_CONTROL_PLANE_HOST_PORT 9000)"
GW_PORT="$(pick_port GANTRY_GATEWAY_HOST_PORT 8080)"
[[ "$CP_PORT" != "$GW_PORT" ]] || GW_PORT="$(free_port)"
export GANTRY_CONTROL_PLANE_HOST_PORT="$CP_PORT" GANTRY_GATEWAY_HOST_PORT="$GW_PORT"
export GANTRY_PUBLIC_URL="${GANTRY_PUBLIC_URL:-http://127.0.0.1:$GW_PORT}"
CP="http://127.0.0.1:$CP_PORT"
GW="http://127.0.0.1:$GW_PORT"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gantry-smoke.XXXXXX")"
chmod 0755 "$WORK"
# A data dir of its own (the same path inside and outside the control plane's container): a
# control plane clears <data dir>/containers at start, which would break another Gantry
# (a user's stack, `npm start`) using the default /var/lib/gantry.
if ((DO_UP)); then
  export GANTRY_DATA_DIR="${GANTRY_DATA_DIR:-$WORK/data}"
fi
OK=0
teardown() {
  local rc=$?
  if ((OK == 0)); then
    echo "compose-smoke: ---- last log lines of the stack ----" >&2
    compose logs --no-color --tail=40 >&2 2>/dev/null || true
  fi
  if ((KEEP == 0)) && [[ -z "${TORN_DOWN:-}" ]]; then
    compose down -v --remove-orphans >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap teardown EXIT

# wait_until SECONDS WHAT CMD...: poll CMD every second until it succeeds or the deadline passes.
wait_until() {
  local secs="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "$what: not within ${secs}s"
    sleep 1
  done
}

# http METHOD URL [curl args...]: sets STATUS and BODY.
http() {
  local method="$1" url="$2"
  shift 2
  STATUS="$(curl -sS --max-time 30 -o "$WORK/body" -w '%{http_code}' -X "$method" "$url" "$@")" || STATUS=000
  BODY="$(cat "$WORK/body" 2>/dev/null || true)"
}

expect() {
  local want="$1" what="$2"
  [[ "$STATUS" == "$want" ]] || fail "$what: HTTP $STATUS (want $want): $BODY"
  log "$what: HTTP $STATUS"
}

ready() { [[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$1/readyz")" == 200 ]]; }

admin_token() {
  compose logs --no-color control-plane 2>/dev/null |
    sed -n 's/.*Gantry admin token (shown once, store it now): \([A-Za-z0-9_-]*\).*/\1/p' | tail -n 1
}

managed_containers() {
  docker ps -aq --filter label=gantry.managed=true --filter "label=gantry.node=$GANTRY_NODE_ID"
}

# ------------------------------------------------------------------ up
log "mode $MODE, project $COMPOSE_PROJECT_NAME, node id $GANTRY_NODE_ID, control plane $CP, gateway $GW"
if ((DO_UP)); then
  # A fresh start: the generated admin token is printed only when the database is new.
  compose down -v --remove-orphans >/dev/null 2>&1 || true
  log "building and starting the stack"
  up_start=$SECONDS
  if [[ "$MODE" == local ]]; then
    compose up >&2 || fail "compose-local.sh up failed" # prepares, then up -d --build
  else
    compose up -d --build >&2 || fail "compose up failed"
  fi
  log "compose up done in $((SECONDS - up_start))s"
fi

wait_until "$READY_TIMEOUT_S" "control plane ready at $CP/readyz" ready "$CP"
log "control plane ready"
wait_until "$READY_TIMEOUT_S" "gateway ready at $GW/readyz" ready "$GW"
log "gateway ready"

T="${GANTRY_ADMIN_TOKEN:-}"
if [[ -z "$T" ]]; then
  deadline=$((SECONDS + 30))
  until T="$(admin_token)" && [[ -n "$T" ]]; do
    ((SECONDS < deadline)) || fail "no generated admin token in the control plane's log"
    sleep 1
  done
  log "admin token read from the control plane's log"
fi
AUTH=(-H "Authorization: Bearer $T")

# ------------------------------------------------------------------ walkthrough (README)
http GET "$CP/v1/runtimes" "${AUTH[@]}"
expect 200 "GET /v1/runtimes"
for runtime in nodejs20 python3.11 provided; do
  [[ "$BODY" == *"\"$runtime\""* ]] || fail "runtime $runtime not listed: $BODY"
done

python3 - "$WORK" <<'PY'
import base64, json, sys, zipfile
work = sys.argv[1]
code = ("exports.handler = async (event) => ({statusCode: 200, "
        "body: JSON.stringify({hello: event.pathParameters?.name})})\n")
with zipfile.ZipFile(f"{work}/fn.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("index.js", code)
with open(f"{work}/fn.zip", "rb") as f:
    zip_b64 = base64.b64encode(f.read()).decode()
with open(f"{work}/create.json", "w") as f:
    json.dump({"name": "hello", "runtime": "nodejs20", "handler": "index.handler",
               "code": {"zipBase64": zip_b64}}, f)
PY

http POST "$CP/v1/functions" "${AUTH[@]}" -H 'content-type: application/json' --data-binary "@$WORK/create.json"
expect 201 "POST /v1/functions (hello)"
http POST "$CP/v1/apis" "${AUTH[@]}" -H 'content-type: application/json' -d '{"name":"demo","protocol":"http"}'
expect 201 "POST /v1/apis (demo)"
[[ "$BODY" == *"\"endpoint\":\"$GANTRY_PUBLIC_URL/demo"* ]] || log "note: endpoint in the answer: $BODY"
http POST "$CP/v1/apis/demo/routes" "${AUTH[@]}" -H 'content-type: application/json' \
  -d '{"routeKey":"GET /hello/{name}","function":"hello"}'
expect 201 "POST /v1/apis/demo/routes (GET /hello/{name})"

# The route reaches every gateway within a second; the first call also starts a container.
want='{"hello":"world"}'
deadline=$((SECONDS + 60))
while :; do
  http GET "$GW/demo/hello/world"
  [[ "$STATUS" == 200 && "$BODY" == "$want" ]] && break
  ((SECONDS < deadline)) || fail "GET $GW/demo/hello/world: HTTP $STATUS, body '$BODY' (want 200 $want)"
  sleep 1
done
log "GET /demo/hello/world -> $BODY"

http POST "$CP/v1/functions/hello/invoke" "${AUTH[@]}" -H 'content-type: application/json' -d '{"pathParameters":{"name":"direct"}}'
expect 200 "POST /v1/functions/hello/invoke"
[[ "$BODY" == *'\"hello\":\"direct\"'* ]] || fail "direct invoke body: $BODY"

n="$(managed_containers | wc -l)"
((n >= 1)) || fail "no function container labelled gantry.node=$GANTRY_NODE_ID on the host engine"
log "$n function container(s) running on the host engine"

# ------------------------------------------------------------------ teardown
if ((KEEP)); then
  OK=1
  log "PASSED (stack left running: --keep)"
  exit 0
fi
log "compose down -v"
compose down -v --remove-orphans >&2 || fail "compose down failed"
TORN_DOWN=1
deadline=$((SECONDS + 30))
while [[ -n "$(managed_containers)" ]]; do
  if ((SECONDS >= deadline)); then
    docker ps -a --filter label=gantry.managed=true --filter "label=gantry.node=$GANTRY_NODE_ID" >&2
    docker rm -f $(managed_containers) >/dev/null 2>&1 || true
    fail "function containers of node $GANTRY_NODE_ID left behind after down"
  fi
  sleep 1
done
left="$(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")"
[[ -z "$left" ]] || fail "compose containers left after down: $left"
OK=1
log "PASSED: walkthrough green, stack down, no gantry.managed containers of node $GANTRY_NODE_ID left"
